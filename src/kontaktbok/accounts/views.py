"""The Django admin's login is the app's own; the language choice is kept on the account."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.i18n import set_language as django_set_language

from kontaktbok.accounts import services


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login page sends to the app's login, with its rate limits and second
    factor; someone logged in who is no admin is refused rather than asked again."""
    if request.user.is_authenticated:
        raise PermissionDenied
    url = reverse("account_login")
    next_url = request.GET.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        url += "?" + urlencode({"next": next_url})
    return redirect(url)


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (a cookie for this browser), and for a signed-in person
    the same choice on the account: it follows them to other devices and is the language
    of their e-mail, SMS and push."""
    response = django_set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        services.user_language_set(actor=request.user, language=request.POST.get("language", ""))
    return response
