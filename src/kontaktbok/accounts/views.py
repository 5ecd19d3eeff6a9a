"""The Django admin's login is the app's own."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


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
