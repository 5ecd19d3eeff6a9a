"""The relay log in a real browser: leiing opens a level-1 log for a 16-year-old in 9B;
both guardians and the pupil consent (the pupil joins by her link with the ID-porten
stand-in); the holder invites the school health nurse, who joins by her link with the
ID-porten stand-in (never a password) and reads the log only after the consents to her
service; a plan with two measures and an evaluation;
the baton goes to the contact teacher, who accepts; a guardian reads who has read the log,
and closes it: read-only; the archive registers it in the pupil's folder."""

import datetime as dt
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from playwright.sync_api import expect

from kontaktbok.archive import arkivmelding, keys, standin
from kontaktbok.archive import delivery as archive_worker
from kontaktbok.archive import services as archive_services
from kontaktbok.archive.models import ArchiveDelivery
from kontaktbok.core import clock
from kontaktbok.demo.data import DemoLogins
from kontaktbok.notifications.models import Notification
from kontaktbok.relaylog.models import Handover, RelayLog
from kontaktbok.schools.models import Pupil, StaffRole
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import LOG_IN, LOG_OUT, log_in, log_in_with_code, log_out
from tests.e2e.test_national_login_journey import at_provider, standins  # noqa: F401

pytestmark = pytest.mark.e2e
User = get_user_model()
NURSE = "helsesjukepleiar@kommune.test"
PUPIL = "elev@skule.test"
# The test persons of the ID-porten stand-in (``kontaktbok.demo.national``).
NURSE_AT_IDPORTEN = "Helga Helsesjukepleiar"
PUPIL_AT_IDPORTEN = "The Vassbotn child in 9B"
SUBSTANTIAL = "idporten-loa-substantial"


def _at_standin(b: Browsing, person: str) -> None:
    """Pick the test person at the ID-porten stand-in, at the substantial level."""
    page = b.page
    page.get_by_label(re.compile(person)).check()
    page.get_by_label("Level (acr)").select_option(SUBSTANTIAL)
    b.follow(page.get_by_role("button", name="Log in"))


def _join(b: Browsing, email: str, person: str) -> None:
    """The person opens the link the holder's invitation sent, logs in with ID-porten
    through it and joins the log; the link then says it is used."""
    page = b.page
    link = Notification.objects.get(recipient__email=email, kind="relaylog.join").url
    b.goto(link)
    b.follow(page.locator("button[data-login=idporten]"))
    _at_standin(b, person)
    assert page.url.endswith(link)
    b.follow(page.get_by_test_id("join"))
    joined = re.compile("relay log|stafettlogg", re.I)
    expect(page.get_by_role("status").first).to_contain_text(joined)
    user = User.objects.get(email=email)
    assert user.nin_digest and not user.has_usable_password()


def _log_out_of_idporten(b: Browsing) -> None:
    """Log out: kontaktbok, then the stand-in's end-session page."""
    page = b.page
    page.get_by_role("navigation").get_by_role("button", name=LOG_OUT).click()
    b.follow(page.get_by_role("button", name="Yes, log out"))
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def _consent_here(b: Browsing, log: RelayLog) -> None:
    """Give every consent asked for, logged in already."""
    b.goto(f"/relaylog/{log.pk}/")
    while b.page.get_by_test_id("consent-link").count():
        b.follow(b.page.get_by_test_id("consent-link").first)
        expect(b.page.locator("#consent-text")).to_contain_text(log.pupil.first_name)
        b.follow(b.page.get_by_test_id("consent-confirm"))


def _log_in_principal(b: Browsing, demo: DemoLogins, *, code: str | None = None) -> None:
    """Leiing logs in with the second factor: the app's code the first time; a recovery
    code later (a TOTP code is accepted once per 30 seconds)."""
    if code is None:
        log_in_with_code(b, demo.principal, demo.password, demo.totp_secret)
        return
    log_in(b, demo.principal, demo.password)
    expect(b.page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    main = b.page.get_by_role("main")
    main.locator("input[name=code]").fill(code)
    b.follow(main.get_by_role("button", name=LOG_IN))


def _consent_all(b: Browsing, log: RelayLog, email: str, password: str) -> None:
    """Log in and give every consent asked for."""
    log_in(b, email, password)
    _consent_here(b, log)
    log_out(b)


@pytest.mark.usefixtures("standins")
def test_a_relay_log_from_opening_to_closing(desktop: Browsing, demo: DemoLogins, settings) -> None:
    b, page = desktop, desktop.page
    settings.FIKS_IO_API_URL = ""  # no Fiks IO here: the test answers as the archive
    child = Pupil.objects.get(last_name="Vassbotn", groups__name="9B")
    unit = archive_services.unit_create(
        actor=None,
        municipality=child.school.municipality,
        school=child.school,
        name=child.school.name,
        fiks_account_id=uuid.uuid4(),
        archive_certificate=keys.self_signed("Arkiv")[1].decode(),
        confidential=True,
    )
    today = clock.today()
    child.date_of_birth = today.replace(year=today.year - 16) - dt.timedelta(days=40)
    child.save(update_fields=["date_of_birth"])
    teacher = StaffRole.objects.get(role="contact_teacher", group__name="9B").member.user
    teacher.set_password(demo.password)
    teacher.save(update_fields=["password"])

    # Leiing opens a level-1 log and is its first holder.
    _log_in_principal(b, demo)
    b.goto("/relaylog/")
    b.follow(page.get_by_test_id("create-link"))
    page.locator("[name=pupil]").select_option(str(child.pk))
    page.locator("[name=concern]").fill("Mykje fråvær og lite søvn sidan hausten.")
    page.locator("[name=level]").select_option("1")
    principal = User.objects.get(email=demo.principal)
    page.locator("[name=holder]").select_option(str(principal.pk))
    b.follow(page.get_by_test_id("create"))
    log = RelayLog.objects.get(pupil=child)
    assert log.state == RelayLog.State.DRAFT and log.level == 1
    # The pupil (16) is invited; her consent is needed too.
    b.follow(page.get_by_test_id("invite-link"))
    page.locator("[name=kind][value=pupil]").check()
    page.locator("[name=full_name]").fill(child.full_name)
    page.locator("[name=email]").fill(PUPIL)
    b.follow(page.get_by_test_id("invite"))
    log_out(b)

    # Both guardians consent digitally, and the pupil.
    _consent_all(b, log, demo.guardian, demo.password)
    _consent_all(b, log, demo.other_guardian, demo.password)
    log.refresh_from_db()
    assert log.state == RelayLog.State.DRAFT  # the pupil has not yet consented
    _join(b, PUPIL, PUPIL_AT_IDPORTEN)
    _consent_here(b, log)
    _log_out_of_idporten(b)
    log.refresh_from_db()
    assert log.state == RelayLog.State.ACTIVE

    # The holder invites the school health nurse and the contact teacher.
    _log_in_principal(b, demo, code=demo.recovery_codes[0])
    b.goto(f"/relaylog/{log.pk}/participants/")
    page.locator("[name=kind][value=service]").check()
    page.locator("[name=full_name]").fill("Helga Helsesjukepleiar")
    page.locator("[name=email]").fill(NURSE)
    page.locator("[name=service]").fill("Helsestasjon")
    b.follow(page.get_by_test_id("invite"))
    b.follow(page.get_by_test_id("invite-link"))
    page.locator("[name=kind][value=staff]").check()
    page.locator("[name=user]").select_option(str(teacher.pk))
    b.follow(page.get_by_test_id("invite"))
    log_out(b)

    # The nurse joins by her link with ID-porten, but reads nothing until her service has
    # consent; the used link says so.
    _join(b, NURSE, NURSE_AT_IDPORTEN)
    expect(page.get_by_test_id("waiting")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text(child.last_name)
    b.goto(f"/relaylog/{log.pk}/", status=404)
    _log_out_of_idporten(b)
    link = Notification.objects.get(recipient__email=NURSE, kind="relaylog.join").url
    b.goto(link, status=410)
    expect(page.get_by_test_id("join-gone")).to_be_visible()
    for email, password in ((demo.guardian, demo.password), (demo.other_guardian, demo.password)):
        _consent_all(b, log, email, password)
    at_provider(b, "idporten", PUPIL_AT_IDPORTEN, SUBSTANTIAL)
    _consent_here(b, log)
    _log_out_of_idporten(b)
    # From now on she logs in with ID-porten and is found by her identity number.
    at_provider(b, "idporten", NURSE_AT_IDPORTEN, SUBSTANTIAL)
    b.goto(f"/relaylog/{log.pk}/")
    page.locator("[name=body]").fill("Samtale med eleven på helsestasjonen.")
    b.follow(page.get_by_test_id("add-entry"))
    expect(page.get_by_test_id("entry")).to_have_count(1)
    _log_out_of_idporten(b)

    # The holder makes the plan: a goal, two measures, one evaluation; hands the baton on.
    _log_in_principal(b, demo, code=demo.recovery_codes[1])
    b.goto(f"/relaylog/{log.pk}/")
    b.follow(page.get_by_test_id("plan-link"))
    page.locator("[name=goal-text]").fill("Eleven kjem på skulen kvar dag.")
    b.follow(page.get_by_test_id("add-goal"))
    for text, who in (("Henting om morgonen", "Føresette"), ("Samtale kvar veke", "Helsestasjon")):
        page.locator("[name=measure-text]").fill(text)
        page.locator("[name=measure-responsible]").fill(who)
        page.locator("[name=measure-deadline]").fill(str(today + dt.timedelta(days=30)))
        page.locator("[name=measure-evaluate_on]").fill(str(today + dt.timedelta(days=14)))
        b.follow(page.get_by_test_id("add-measure"))
    page.locator("[name=evaluation-text]").fill("Fråværet har gått ned.")
    page.locator("[name=evaluation-outcome]").select_option("continue")
    b.follow(page.get_by_test_id("add-evaluation"))
    assert log.goals.get().measures.count() == 2
    b.goto(f"/relaylog/{log.pk}/")
    page.locator("[name=to_user]").select_option(str(teacher.pk))
    b.follow(page.get_by_test_id("hand-over"))
    log.refresh_from_db()
    assert log.holder_id == principal.pk  # until the teacher accepts
    log_out(b)

    log_in(b, teacher.email, demo.password)
    b.goto(f"/relaylog/{log.pk}/")
    b.follow(page.get_by_test_id("accept-baton"))
    log.refresh_from_db()
    assert log.holder_id == teacher.pk
    assert Handover.objects.filter(log=log, state="accepted").count() == 2
    log_out(b)

    # A guardian reads who has read the log, then closes it.
    log_in(b, demo.guardian, demo.password)
    b.goto(f"/relaylog/{log.pk}/")
    b.follow(page.get_by_test_id("reads-link"))
    readers = page.get_by_test_id("reads")
    expect(readers).to_contain_text("Helga Helsesjukepleiar")
    expect(readers).to_contain_text(teacher.get_full_name())
    b.goto(f"/relaylog/{log.pk}/")
    b.follow(page.get_by_test_id("close-link"))
    b.follow(page.get_by_test_id("close"))
    log.refresh_from_db()
    assert log.state == RelayLog.State.CLOSED
    assert log.archive_state == RelayLog.Archive.WAITING
    expect(page.locator("[name=body]")).to_have_count(0)
    expect(page.get_by_test_id("close-link")).to_have_count(0)
    expect(page.locator(f"a[href='/relaylog/{log.pk}/document/']")).to_have_count(1)
    assert re.search(r"/relaylog/\d+/$", page.url)
    # The archive registers the log in the pupil's folder (its answers as the consumer
    # hands them over): the log shows it is archived.
    delivery = ArchiveDelivery.objects.get(source="relaylog")
    message_id = uuid.uuid4()
    archive_services.delivery_mark_sent(
        delivery_id=delivery.pk, claimed_at=archive_worker.claim(delivery.pk), message_id=message_id
    )
    archive_services.answer_record(
        message_id=uuid.uuid4(),
        message_type=arkivmelding.KVITTERING,
        sender_account=unit.fiks_account_id,
        in_reply_to=message_id,
        client_message_id=None,
        payload=standin.receipt_xml(year=2026, sequence=88, post=1, created=True, external_key="k"),
    )
    log.refresh_from_db()
    assert log.archive_state == RelayLog.Archive.RECEIVED
    page.reload()
    b.check_page()
    with translation.override("nn"):
        archived = str(RelayLog.Archive.RECEIVED.label)
    expect(page.get_by_test_id("archive-state")).to_have_text(archived)
    log_out(b)
