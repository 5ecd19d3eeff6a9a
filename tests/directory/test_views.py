"""The directory pages: the guardian's contacts with call links, the school's directory and
the school admin's form (work numbers only)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from kontaktbok.directory.models import DirectoryEntry
from kontaktbok.directory.services import directory_entry_update
from tests.directory.helpers import Role, add_staff, member_of
from tests.query_counts import assert_same_count, counted

pytestmark = pytest.mark.django_db


def client_for(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["kontaktbok_language"] = language
    return client


def contacts_url(pupil) -> str:
    return reverse("directory_child", args=[pupil.pk])


def edit_url(world, member) -> str:
    return reverse("directory_entry_edit", args=[world.school.pk, member.pk])


@pytest.fixture
def teacher_entry(world):
    return directory_entry_update(
        actor=world.school_admin,
        member=member_of(world.contact_teacher_a),
        data={
            "work_phone": "+47 57 11 22 33",
            "teams_address": "teacher.a@skule.test",
            "office_hours": "Monday–Friday 08.00–15.30",
        },
    )


def test_the_guardian_sees_call_links(world, teacher_entry):
    response = client_for(world.guardian_a).get(contacts_url(world.child_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="tel:+4757112233"' in html
    assert 'href="https://teams.microsoft.com/l/call/0/0?users=teacher.a%40skule.test"' in html
    assert "Monday–Friday 08.00–15.30" in html
    # The link's accessible name says whom it calls.
    assert re.search(r">Call<span class=\"ds-sr-only\"> Teacher A \(contact teacher\)</span>", html)
    assert "Principal" in html and "Office" in html
    assert "Teacher B" not in html  # 9B's contact teacher


def test_the_page_is_in_nynorsk_by_default(world, teacher_entry):
    html = client_for(world.guardian_a, "nn").get(contacts_url(world.child_a)).content.decode()
    assert "(kontaktlærar)" in html
    assert '<html lang="nn"' in html


def test_another_familys_child_is_not_found(world, teacher_entry):
    client = client_for(world.guardian_b)
    assert client.get(contacts_url(world.child_b)).status_code == 200
    for pupil in (world.child_a, world.child_a2, world.other_child):
        response = client.get(contacts_url(pupil))
        assert response.status_code == 404
        assert "+4757112233" not in response.content.decode()


def test_the_home_page_links_to_each_childs_contacts(world):
    html = client_for(world.guardian_a).get(reverse("home")).content.decode()
    assert f'href="{contacts_url(world.child_a)}"' in html
    assert f'href="{contacts_url(world.child_a2)}"' in html


def test_the_home_page_links_the_school_admin_to_the_directory(world):
    url = reverse("directory_school", args=[world.school.pk])
    assert f'href="{url}"' in client_for(world.school_admin).get(reverse("home")).content.decode()
    assert f'href="{url}"' not in client_for(world.office).get(reverse("home")).content.decode()


def test_staff_see_the_directory_without_change_links(world, teacher_entry):
    url = reverse("directory_school", args=[world.school.pk])
    html = client_for(world.contact_teacher_b).get(url).content.decode()
    assert "Teacher A" in html and 'href="tel:+4757112233"' in html
    assert "/staff/" not in html
    admin_html = client_for(world.school_admin).get(url).content.decode()
    assert edit_url(world, member_of(world.contact_teacher_a)) in admin_html


def test_the_form_says_it_is_the_work_number(world):
    response = client_for(world.school_admin).get(
        edit_url(world, member_of(world.contact_teacher_a))
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Work phone (never a private number)" in html
    assert 'value="+47 400 00 000"' in html
    assert "private" not in [name for name in response.context["form"].fields]


def test_the_admin_saves_an_entry(world):
    member = member_of(world.contact_teacher_a)
    response = client_for(world.school_admin).post(
        edit_url(world, member),
        {
            "work_phone": "+47 57 11 22 33",
            "teams_address": "teacher.a@skule.test",
            "office_hours": "Monday–Friday 08.00–15.30",
            "listed": "on",
            "grade_from": "",
            "grade_to": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("directory_school", args=[world.school.pk])
    member.refresh_from_db()
    assert member.work_phone == "+47 57 11 22 33"
    assert member.directory_entry.office_hours == "Monday–Friday 08.00–15.30"
    assert member.directory_entry.listed
    assert AuditEntry.objects.filter(action="directory.entry.updated").count() == 1


def test_a_bad_number_gets_a_clear_error_and_keeps_the_rest(world):
    member = member_of(world.contact_teacher_a)
    response = client_for(world.school_admin).post(
        edit_url(world, member),
        {
            "work_phone": "ring meg",
            "teams_address": "teacher.a@skule.test",
            "office_hours": "Tuesdays 09–11",
            "grade_from": "1",
            "grade_to": "7",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'href="#id_work_phone"' in html  # the error summary points at the field
    assert "for example +47 57 00 00 00" in html
    assert 'value="ring meg"' in html
    assert 'value="teacher.a@skule.test"' in html
    assert 'value="Tuesdays 09–11"' in html
    assert '<option value="7" selected>' in html
    member.refresh_from_db()
    assert member.work_phone == "+47 400 00 000"
    assert not DirectoryEntry.objects.exists()


def test_grades_out_of_order_are_refused(world):
    head = add_staff(world, Role.HEAD_OF_STAGE, "Head")
    response = client_for(world.school_admin).post(
        edit_url(world, head), {"work_phone": "+47 400 00 000", "grade_from": "8", "grade_to": "7"}
    )
    assert response.status_code == 400
    assert 'href="#id_grade_to"' in response.content.decode()


@pytest.mark.parametrize("who", ["office", "leadership", "contact_teacher_a", "guardian_a"])
def test_nobody_else_may_edit(world, who):
    member = member_of(world.contact_teacher_a)
    client = client_for(getattr(world, who))
    assert client.get(edit_url(world, member)).status_code == 404
    response = client.post(edit_url(world, member), {"work_phone": "+47 99 99 99 99"})
    assert response.status_code == 404
    member.refresh_from_db()
    assert member.work_phone == "+47 400 00 000"


def test_the_admin_of_one_school_cannot_edit_another(world):
    other = add_staff(world, Role.OFFICE, "Elsewhere", school=world.other_school)
    url = reverse("directory_entry_edit", args=[world.other_school.pk, other.pk])
    assert client_for(world.school_admin).get(url).status_code == 404
    # Nor reach the other school's member through their own school's address.
    assert client_for(world.school_admin).get(edit_url(world, other)).status_code == 404


def test_the_contacts_page_query_count_holds_as_staff_grow(world):
    client = client_for(world.guardian_a)
    url = contacts_url(world.child_a)
    client.get(url)  # the session's first request saves it once
    few = counted(client, url)
    listed = few.text.count('data-testid="contact"')
    assert listed >= 1
    for n in range(10):
        add_staff(world, Role.ADVISOR, f"Extra {n}")
    for n in range(10):
        add_staff(
            world,
            Role.CONTACT_TEACHER,
            f"Co-teacher {n}",
            group=world.class_a,
            work_phone=f"+47 400 00 1{n:02d}",
            teams_address=f"co{n}@skule.test",
        )
    many = counted(client, url)
    assert many.text.count('data-testid="contact"') == listed + 20
    assert "Co-teacher 9" in many.text and "co9%40skule.test" in many.text
    assert_same_count(few, many)


def test_grades_are_not_repeated_when_the_title_names_them(world):
    """ "Hovudstegsleiar 1.–7. trinn, 1.–7. trinn" read twice; a title without the grades
    still gets them."""
    named = add_staff(world, Role.HEAD_OF_STAGE, "Hanne Barnesteg", grade_from=1, grade_to=7)
    named.title = "Hovudstegsleiar 1.–7. trinn"
    named.save()
    plain = add_staff(world, Role.HEAD_OF_STAGE, "Hans Ungdomssteg", grade_from=8, grade_to=10)
    url = reverse("directory_school", args=[world.school.pk])
    client = client_for(world.contact_teacher_b)
    client.cookies["kontaktbok_language"] = "en"
    html = client.get(url).content.decode()
    assert "Hovudstegsleiar 1.–7. trinn</p>" in html
    assert "grades 1–7" not in html
    assert "grades 8–10" in html
    assert plain.user.get_full_name() in html
