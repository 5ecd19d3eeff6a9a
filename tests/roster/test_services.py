"""The roster import: preview, apply all or nothing, and re-import as a sync."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.roster import apply as roster_apply_module
from kontaktbok.roster import services
from kontaktbok.roster.models import RosterImport, RosterKey
from kontaktbok.schools.identity import make_test_nin, nin_digest
from kontaktbok.schools.models import Group, Guardianship, Pupil, StaffMember, StaffRole

pytestmark = pytest.mark.django_db

HEADER = (
    "type;id;førenamn;etternamn;fødselsdato;fødselsnummer;klasse;grupper;e-post;mobil;"
    "elevar;foreldreansvar;bur saman med eleven;rolle;feide-id\n"
)


def nin(birth: str = "010116", start: int = 100) -> str:
    return next(n for i in range(start, start + 50) if (n := make_test_nin(birth, i)))


def roster_csv(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode("utf-8")


def base_rows() -> list[str]:
    return [
        "klasse;;;;;;5C;;;;;;;;",
        "gruppe;;;;;;5-musikk;;;;;;;;",
        f"elev;E1;Kari;Nordmann;31.08.2016;{nin()};5C;5-musikk;;;;;;;",
        "elev;E2;Per;Hansen;2016-02-01;;5C;;;;;;;;",
        "føresett;F1;Ola;Nordmann;;;;;ola@example.no;412 34 567;E1;ja;ja;;",
        "føresett;F2;Eva;Hansen;;;;;eva@example.no;;E2 E1;ja;nei;;",
        "tilsett;T1;Lise;Lærar;;;5C;;lise@example.no;;;;;kontaktlærar;lise@feide.no",
        "tilsett;T1;Lise;Lærar;;;5-musikk;;lise@example.no;;;;;lærar;lise@feide.no",
    ]


def preview(world, data: bytes) -> RosterImport:
    return services.roster_preview(
        actor=world.office, school=world.school, file_name="elevar.csv", data=data
    )


def test_a_new_roster_is_previewed_then_applied_all_at_once(world):
    item = preview(world, roster_csv(*base_rows()))
    assert item.rejected == []
    counts = item.counts
    assert counts["classes_new"] == 2 and counts["pupils_new"] == 2
    assert counts["accounts_new"] == 3 and counts["guardianships_new"] == 3
    assert counts["staff_new"] == 1 and counts["roles_new"] == 2
    assert not Pupil.objects.filter(last_name="Hansen").exists()  # nothing written yet
    assert services.roster_apply(actor=world.office, roster_import=item)
    kari = Pupil.objects.get(first_name="Kari", last_name="Nordmann")
    assert {g.name for g in kari.groups.all()} == {"5C", "5-musikk"}
    assert Group.objects.get(name="5C").grade == 5
    eva = get_user_model().objects.get(email="eva@example.no")
    assert not eva.has_usable_password()
    ties = Guardianship.objects.filter(guardian=eva)
    assert {(g.pupil.first_name, g.lives_with_pupil) for g in ties} == {
        ("Per", False),
        ("Kari", False),
    }
    lise = StaffMember.objects.get(user__email="lise@example.no")
    assert lise.feide_id == "lise@feide.no"
    assert {(r.role, r.group.name) for r in lise.roles.all()} == {
        ("contact_teacher", "5C"),
        ("teacher", "5-musikk"),
    }
    item.refresh_from_db()
    assert item.status == "applied" and item.records == b""
    entry = AuditEntry.objects.get(action="roster.import.applied")
    assert entry.detail["pupils_new"] == 2 and entry.school_id == world.school.pk
    # The same file again: nothing to change.
    again = preview(world, roster_csv(*base_rows()))
    assert again.changes == 0, again.counts


def test_a_re_import_changes_only_what_changed_and_those_who_left_leave(world):
    services.roster_apply(
        actor=world.office, roster_import=preview(world, roster_csv(*base_rows()))
    )
    rows = base_rows()
    rows[3] = "elev;E2;Per Olav;Hansen;2016-02-01;;5-musikk;;;;;;;;"  # renamed, moved
    rows[2] = "elev;E3;Nina;Berg;2016-05-05;;5C;;;;;;;;"  # Kari left, Nina came
    rows[5] = "føresett;F2;Eva;Hansen;;;;;eva@example.no;;E2;ja;ja;;"
    rows[4] = "føresett;F1;Ola;Nordmann;;;;;ola@example.no;412 34 567;E3;ja;ja;;"
    rows.pop()  # Lise no longer teaches music
    item = preview(world, roster_csv(*rows))
    counts = item.counts
    assert counts["pupils_new"] == 1 and counts["pupils_changed"] == 1
    assert counts["pupils_leaving"] == 1 and counts["roles_ended"] == 1
    assert item.details["pupils_leaving"] == ["Kari Nordmann"]
    assert services.roster_apply(actor=world.office, roster_import=item)
    kari = Pupil.objects.get(first_name="Kari")
    assert kari.left_on is not None and not kari.groups.exists()  # kept, out of groups
    per = Pupil.objects.get(last_name="Hansen")
    assert per.first_name == "Per Olav" and [g.name for g in per.groups.all()] == ["5-musikk"]
    ola = get_user_model().objects.get(email="ola@example.no")
    # Nina's guardian now; Kari, who left, keeps hers on record.
    ties = Guardianship.objects.filter(guardian=ola).order_by("pupil__first_name")
    assert [g.pupil.first_name for g in ties] == ["Kari", "Nina"]
    eva = get_user_model().objects.get(email="eva@example.no")
    ties = Guardianship.objects.filter(guardian=eva).order_by("pupil__first_name")
    assert [(g.pupil.first_name, g.lives_with_pupil) for g in ties] == [
        ("Kari", False),
        ("Per Olav", True),
    ]
    music = StaffRole.objects.get(role="teacher", group__name="5-musikk")
    assert music.ends_on == clock.today() - dt.timedelta(days=1)
    assert preview(world, roster_csv(*rows)).changes == 0


def test_rejected_rows_are_listed_and_their_people_left_alone(world):
    services.roster_apply(
        actor=world.office, roster_import=preview(world, roster_csv(*base_rows()))
    )
    rows = base_rows()
    rows[2] = "elev;E1;Kari;Nordmann;31.08.2016;01011612345;5C;;;;;;;;"  # bad number
    rows[3] = "elev;E2;Per;Hansen;2016-02-01;;7Q;;;;;;;;"  # unknown class
    rows.append("føresett;F9;Ukjend;Kontakt;;;;;;;E2;ja;ja;;")  # no contact
    item = preview(world, roster_csv(*rows))
    reasons = {(r.line, r.reason) for r in item.rejections()}
    assert reasons == {(4, "bad_nin"), (5, "unknown_class"), (10, "no_contact")}
    assert item.counts["pupils_leaving"] == 0  # Kari and Per are not taken as gone
    assert all(r.message for r in item.rejections())


def test_only_those_who_keep_the_people_import(world):
    with pytest.raises(PermissionDenied):
        services.roster_preview(
            actor=world.contact_teacher_a, school=world.school, file_name="x.csv", data=b""
        )


def test_a_failed_apply_leaves_nothing_written(world, monkeypatch):
    item = preview(world, roster_csv(*base_rows()))

    def broken(plan):
        raise RuntimeError("disk full")

    monkeypatch.setattr(roster_apply_module, "_staff", broken)
    with pytest.raises(RuntimeError):
        services.roster_apply(actor=world.office, roster_import=item)
    assert not Pupil.objects.filter(last_name="Hansen").exists()
    assert not Group.objects.filter(name="5C").exists()
    assert not RosterKey.objects.exists()
    item.refresh_from_db()
    assert item.status == "previewed"


def test_existing_pupils_are_matched_by_identity_number(world):
    number = nin("040416")
    Pupil.objects.filter(pk=world.child_a.pk).update(nin_digest=nin_digest(number))
    child = world.child_a
    born = child.date_of_birth.isoformat()
    row = f"elev;X1;{child.first_name};{child.last_name};{born};{number};4A;;;;;;;;"
    item = preview(world, roster_csv(row))
    assert item.counts["pupils_new"] == 0 and item.counts["pupils_changed"] == 0


def test_adults_are_found_by_identity_number_or_address_then_by_their_key(world):
    """Accounts the roster did not bring are matched by identity number, else by e-mail
    address; once applied, a re-import finds the same accounts by their source key, whatever
    address the file gives then."""
    number = nin("020280")
    User = get_user_model()
    User.objects.filter(pk=world.guardian_a.pk).update(nin_digest=nin_digest(number))
    teacher = world.contact_teacher_a

    def rows(ola: str, eva: str, lise: str) -> list[str]:
        return [
            "klasse;;;;;;5C;;;;;;;;",
            "elev;E1;Kari;Nordmann;31.08.2016;;5C;;;;;;;;",
            f"føresett;F1;Ola;Nordmann;;{number};;;{ola};;E1;ja;ja;;",
            f"føresett;F2;Eva;Hansen;;;;;{eva};;E1;ja;ja;;",
            f"tilsett;T1;Lise;Lærar;;;5C;;{lise};;;;;kontaktlærar;",
        ]

    first = preview(
        world, roster_csv(*rows("ola@example.no", world.guardian_b.email, teacher.email))
    )
    assert first.rejected == []
    assert first.counts["accounts_new"] == 0 and first.counts["staff_new"] == 0
    assert first.counts["guardians_changed"] == 2  # their names are the file's now
    assert services.roster_apply(actor=world.office, roster_import=first)
    kari = Pupil.objects.get(first_name="Kari", last_name="Nordmann")
    assert set(kari.guardianships.values_list("guardian_id", flat=True)) == {
        world.guardian_a.pk,
        world.guardian_b.pk,
    }
    keys = RosterKey.objects.filter(school=world.school, kind__in=["guardian", "staff"])
    assert dict(keys.values_list("source_id", "object_id")) == {
        "F1": world.guardian_a.pk,
        "F2": world.guardian_b.pk,
        "T1": teacher.pk,
    }
    # New addresses in the file: the same accounts, found by their keys.
    again = preview(world, roster_csv(*rows("ny1@example.no", "ny2@example.no", "ny3@example.no")))
    assert again.counts["accounts_new"] == 0 and again.changes == 0, again.counts


def test_guardians_with_a_mobile_number_only_get_accounts_without_an_address(world):
    """Reached by SMS and by phone, logging in with ID-porten (matched by identity number):
    two such guardians are two people, and the second import changes nothing."""
    rows = [
        "klasse;;;;;;5C;;;;;;;;",
        "elev;E1;Kari;Nordmann;31.08.2016;;5C;;;;;;;;",
        f"føresett;F1;Ola;Nordmann;;{nin('020280')};;;;412 34 567;E1;ja;ja;;",
        "føresett;F2;Eva;Hansen;;;;;;+46 70 123 45 67;E1;ja;nei;;",
    ]
    item = preview(world, roster_csv(*rows))
    assert item.rejected == [] and item.counts["accounts_new"] == 2
    assert services.roster_apply(actor=world.office, roster_import=item)
    kari = Pupil.objects.get(first_name="Kari", last_name="Nordmann")
    guardians = get_user_model().objects.filter(guardianships__pupil=kari).order_by("full_name")
    assert [(g.full_name, g.email, g.phone) for g in guardians] == [
        ("Eva Hansen", None, "+46 70 123 45 67"),
        ("Ola Nordmann", None, "+47 41 23 45 67"),
    ]
    assert guardians[1].nin_digest == nin_digest(nin("020280"))
    again = preview(world, roster_csv(*rows))
    assert again.rejected == [] and not any(
        n for name, n in again.counts.items() if name != "rejected"
    )
    from kontaktbok.accounts.invitations import invitations_send_missing
    from kontaktbok.accounts.selectors import not_activated_q

    waiting = get_user_model().objects.filter(not_activated_q(world.school))
    assert not waiting.filter(pk__in=[g.pk for g in guardians]).exists()  # no password to set
    invitations_send_missing(actor=world.office, school=world.school)
    assert not guardians[0].invitations.exists()
