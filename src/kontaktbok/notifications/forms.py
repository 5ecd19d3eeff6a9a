from django import forms


class PushSubscriptionForm(forms.Form):
    endpoint = forms.URLField(max_length=1000)
    p256dh = forms.CharField(max_length=200)
    auth = forms.CharField(max_length=100)
    device = forms.CharField(max_length=200, required=False)
