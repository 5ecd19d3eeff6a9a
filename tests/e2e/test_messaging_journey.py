"""Messages in a real browser, the guardians on a phone: a guardian writes to the contact
teacher, the teacher replies, the guardian sees it read; and a message to a class where two
guardians reply and neither sees the other."""

import re

import pytest
from playwright.sync_api import expect

from kontaktbok.demo.data import DemoLogins
from kontaktbok.messaging.models import Broadcast, Participant, Thread
from kontaktbok.schools.models import Group, Pupil
from kontaktbok.schools.selectors import guardians_to_inform
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import TEACHER_4A, log_in, log_out, text

pytestmark = pytest.mark.e2e

WRITE_TO_SCHOOL = text("Skriv til skulen", "Skriv til skolen", "Write to the school")
MESSAGES = re.compile(r"^\s*(Meldingar|Meldinger|Messages)\s*$", re.IGNORECASE)
SUBJECT = re.compile(r"^(Emne|Subject)", re.IGNORECASE)
BODY = re.compile(r"^(Melding|Message)\b", re.IGNORECASE)
SHOW_RECIPIENTS = text("Vis mottakarane", "Vis mottakerne", "Show the recipients")
SENT = text("sendt", "was sent")
REPLY_SENT = text("Svaret ditt", "svaret ditt", "Your reply was sent")


def _reply(phone: Browsing, body: str) -> None:
    page = phone.page
    form = page.get_by_test_id("reply-form")
    form.get_by_label(BODY).fill(body)
    phone.follow(form.get_by_test_id("send"))
    expect(page.get_by_role("status").first).to_contain_text(REPLY_SENT)
    expect(page.get_by_test_id("message").last).to_contain_text(body)


def test_guardian_writes_teacher_replies_guardian_sees_it_read(
    phone: Browsing, desktop: Browsing, demo: DemoLogins
) -> None:
    page = phone.page
    child = Pupil.objects.get(guardianships__guardian__email=demo.guardian, groups__name="4A")
    log_in(phone, demo.guardian, demo.password)
    card = page.get_by_test_id("child").filter(has_text=child.full_name)
    phone.follow(card.get_by_role("link", name=WRITE_TO_SCHOOL))
    expect(page).to_have_url(phone.url(f"/messages/children/{child.pk}/new/"))
    # 07:45 on a Tuesday: before the teacher's working hours, and absence has its own page.
    expect(page.get_by_test_id("working-hours")).to_contain_text("08:00")
    expect(page.get_by_test_id("working-hours")).to_contain_text("16:00")
    hint = page.get_by_test_id("absence-hint").get_by_role("link")
    expect(hint).to_have_attribute("href", f"/absence/children/{child.pk}/report/")
    teacher_box = page.get_by_role("checkbox", name=re.compile(TEACHER_4A))
    expect(teacher_box).to_be_checked()
    page.get_by_label(SUBJECT).fill("Gymtøy")
    page.get_by_label(BODY).fill("Hei! Kan ho ha gymtøyet med i morgon i staden?")
    phone.follow(page.get_by_test_id("send"))
    thread = Thread.objects.get(subject="Gymtøy")
    expect(page).to_have_url(phone.url(f"/messages/{thread.pk}/"))
    expect(page.get_by_test_id("participants")).to_contain_text(TEACHER_4A)
    status = page.get_by_test_id("read-status")
    expect(status.locator("[data-read=false]")).to_contain_text(TEACHER_4A)
    log_out(phone)

    # The teacher finds it in the inbox, unread, and replies.
    teacher = desktop.page
    log_in(desktop, demo.contact_teacher, demo.password)
    desktop.follow(teacher.get_by_role("navigation").get_by_role("link", name=MESSAGES))
    row = teacher.get_by_test_id("thread").filter(has_text="Gymtøy")
    expect(row.get_by_test_id("unread")).to_be_visible()
    desktop.follow(row.get_by_role("link", name="Gymtøy"))
    expect(teacher.get_by_test_id("message").first).to_contain_text("gymtøyet")
    _reply(desktop, "Ja, det går fint.")

    # The guardian sees the reply, and that the teacher has read her message.
    log_in(phone, demo.guardian, demo.password)
    phone.goto("/messages/")
    row = page.get_by_test_id("thread").filter(has_text="Gymtøy")
    expect(row.get_by_test_id("unread")).to_be_visible()
    phone.follow(row.get_by_role("link", name="Gymtøy"))
    expect(page.get_by_test_id("message").last).to_contain_text("Ja, det går fint.")
    mine = page.locator("[data-testid=message][data-mine=true]")
    expect(mine.locator("[data-read=true]")).to_contain_text(TEACHER_4A)
    assert Participant.objects.get(thread=thread, user__email=demo.guardian).last_read_at


def test_group_message_two_guardians_reply_and_neither_sees_the_other(
    phone: Browsing, desktop: Browsing, demo: DemoLogins
) -> None:
    group = Group.objects.get(name="4A")
    demo_child = group.pupils.get(guardianships__guardian__email=demo.guardian)
    # A second family in 4A, whose guardian gets a password for the test.
    other_child = next(
        p
        for p in group.pupils.exclude(pk=demo_child.pk).order_by("pk")
        if guardians_to_inform(p) and demo.guardian not in {g.email for g in guardians_to_inform(p)}
    )
    other_guardian = guardians_to_inform(other_child)[0]
    other_guardian.set_password(demo.password)
    other_guardian.save()

    teacher = desktop.page
    log_in(desktop, demo.contact_teacher, demo.password)
    desktop.goto(f"/messages/groups/new/?group={group.pk}")
    expect(teacher.get_by_role("checkbox", name="4A")).to_be_checked()
    teacher.get_by_label(SUBJECT).fill("Skitur fredag")
    teacher.get_by_label(BODY).fill("Fredag går 4A på skitur. Svar om barnet kan vere med.")
    desktop.follow(teacher.get_by_test_id("next"))
    count = teacher.get_by_test_id("family-names").get_by_role("listitem").count()
    assert count >= 2
    expect(teacher.get_by_test_id("family-count")).to_contain_text(str(count))
    expect(teacher.get_by_test_id("family-names")).to_contain_text(other_child.full_name)
    expect(teacher.get_by_role("main")).not_to_contain_text(other_guardian.full_name)
    # Sending without confirming the count is refused.
    desktop.follow(teacher.get_by_test_id("send"), status=400)
    assert not Broadcast.objects.exists()
    teacher.get_by_role("checkbox", name=re.compile(str(count))).check()
    desktop.follow(teacher.get_by_test_id("send"))
    broadcast = Broadcast.objects.get()
    assert broadcast.family_count == count
    expect(teacher).to_have_url(desktop.url(f"/messages/groups/{broadcast.pk}/"))
    expect(teacher.get_by_test_id("family")).to_have_count(count)

    # Each guardian replies in their own family's conversation, on a phone.
    page = phone.page
    for email, child, answer, other_answer, other_child_name in (
        (demo.guardian, demo_child, "Ja, ho er med!", "Nei, han er sjuk.", other_child.full_name),
        (other_guardian.email, other_child, "Nei, han er sjuk.", "Ja, ho er med!", None),
    ):
        log_in(phone, email, demo.password)
        phone.goto("/messages/")
        rows = page.get_by_test_id("thread").filter(has_text="Skitur fredag")
        expect(rows).to_have_count(1)
        phone.follow(rows.get_by_role("link", name="Skitur fredag"))
        expect(page.get_by_role("main")).to_contain_text(child.full_name)
        _reply(phone, answer)
        main = page.get_by_role("main")
        expect(main).not_to_contain_text(other_answer)
        if other_child_name:
            expect(main).not_to_contain_text(other_child_name)
        expect(main).not_to_contain_text(
            other_guardian.full_name if email == demo.guardian else "Kari Vassbotn"
        )
        log_out(phone)

    # The teacher sees both replies, each in its own conversation.
    desktop.goto(f"/messages/groups/{broadcast.pk}/")
    replied = teacher.get_by_test_id("family").filter(has_text=re.compile(r"1 (svar|reply)"))
    expect(replied).to_have_count(2)
    by_pupil = {t.pupil_id: t for t in broadcast.threads.all()}
    assert len(by_pupil) == count
    on_demo = set(by_pupil[demo_child.pk].participants.values_list("user__email", flat=True))
    on_other = set(by_pupil[other_child.pk].participants.values_list("user__email", flat=True))
    assert other_guardian.email not in on_demo and demo.guardian not in on_other
