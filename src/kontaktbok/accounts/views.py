"""The Django admin's login is the app's own; the language choice is kept on the account."""

from urllib.parse import urlencode

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.flows.login import record_authentication
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods
from django.views.i18n import set_language as django_set_language

from kontaktbok.accounts import invitations, selectors, services
from kontaktbok.core import clock
from kontaktbok.core.forms import add_errors
from kontaktbok.core.ratelimit import limit


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


@limit("accounts.invitation")
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation: choose a password, then log in with it; or make a
    passkey on this device (the link lets the person in once, to add it)."""
    invitation = invitations.open_invitation(token)
    if invitation is None:
        return render(request, "accounts/invitation_gone.html", status=410)
    if request.method == "POST" and request.POST.get("passkey"):
        try:
            user = invitations.invitation_accept_passkey(token=token)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("invitation_accept", token=token)
        get_account_adapter(request).logout(request)
        login(request, user, backend="kontaktbok.accounts.backends.VerifiedEmailBackend")
        record_authentication(request, user, "invitation")
        return redirect("mfa_add_webauthn")
    form = SetPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.invitation_accept(token=token, data=request.POST)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Your password is saved. Log in with it now."))
            return redirect("account_login")
    context = {
        "invitation": invitation,
        "form": form,
        "passkeys": settings.MFA_PASSKEY_LOGIN_ENABLED,
    }
    return render(request, "accounts/invitation.html", context, status=400 if form.errors else 200)


@login_required
@limit("accounts.invite")
@require_http_methods(["GET", "POST"])
def invitation_list(request: HttpRequest, school_id: int) -> HttpResponse:
    """Kontor: who has not activated their account yet, and the link sent again."""
    waiting = selectors.not_activated(actor=request.user, school_id=school_id)
    if request.method == "POST":
        try:
            if request.POST.get("all"):
                sent = invitations.invitations_send_missing(
                    actor=request.user, school=waiting.school
                )
            else:
                person = next(
                    (p for p in waiting.people if str(p.pk) == request.POST.get("user")), None
                )
                if person is None:
                    raise Http404
                invitations.invitation_send(actor=request.user, user=person, school=waiting.school)
                sent = 1
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                ngettext("%(count)s invitation is sent.", "%(count)s invitations are sent.", sent)
                % {"count": sent},
            )
        return redirect("invitation_list", school_id=school_id)
    context = {"waiting": waiting, "now": clock.now()}
    return render(request, "accounts/invitation_list.html", context)
