"""The demo school: Vassenden skule in Sunnfjord kommune, with invented people only.

National identity numbers are synthetic (month + 80, as in Norway's test numbers), so they
can never be a real person's.
"""

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from kontaktbok.accounts.services import user_create
from kontaktbok.schools import services
from kontaktbok.schools.identity import make_test_nin
from kontaktbok.schools.models import Group, School, StaffMember, StaffRole

Role = StaffRole.Role
User = get_user_model()

SCHOOL_ORG_NUMBER = "974000002"
DEMO_PASSWORD = "Vassenden-demo-2026"
# A fixed, published TOTP secret: the demo principal's second factor (demo only).
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPVASSENDENDEMOKEY"
DOMAIN = "vassenden.test"
# National login in the demo (local stand-ins for ID-porten and Feide, ``demo/national.py``):
# the synthetic identity numbers (month + 80) of the demo's two parents, and of a person
# who is no guardian here; the Feide ids of the demo's staff logins.
DEMO_NINS = {
    f"foresett@{DOMAIN}": "12858451386",
    f"foresett2@{DOMAIN}": "03078152019",
}
DEMO_UNKNOWN_NIN = "24089053052"
# Who joins a relay log from outside the school with ID-porten: the school health nurse
# (no account until the holder invites her and she joins), and the demo child in 9B.
DEMO_NURSE_NIN = "21868152068"
DEMO_PUPIL_NINS = {"9B": "15901052023"}
DEMO_FEIDE_IDS = {
    f"kontaktlaerar@{DOMAIN}": "marit.hjelmeland@vassenden.kommune.no",
    f"kontor@{DOMAIN}": "sissel.kvamme@vassenden.kommune.no",
    f"rektor@{DOMAIN}": "gunnar.myklebust@vassenden.kommune.no",
}

FIRST_NAMES = [
    "Astrid",
    "Brage",
    "Eira",
    "Eirik",
    "Frida",
    "Gaute",
    "Hedda",
    "Idun",
    "Jon",
    "Kaia",
    "Lars",
    "Maja",
    "Njål",
    "Oda",
    "Ola",
    "Ragna",
    "Sindre",
    "Solveig",
    "Tiril",
    "Torstein",
    "Ulrikke",
    "Vebjørn",
    "Vilde",
    "Aksel",
    "Ingrid",
    "Mathias",
    "Sunniva",
    "Håkon",
    "Synne",
    "Eivind",
    "Live",
    "Sigurd",
    "Marte",
    "Trygve",
    "Guro",
    "Amund",
    "Ylva",
    "Kristoffer",
]
ADULT_FIRST_NAMES = [
    "Anne",
    "Bjørn",
    "Camilla",
    "Dag",
    "Elin",
    "Frode",
    "Gunn",
    "Harald",
    "Inger",
    "Jostein",
    "Kjersti",
    "Leif",
    "Mona",
    "Nils",
    "Randi",
    "Svein",
    "Tone",
    "Terje",
    "Unni",
    "Vidar",
    "Wenche",
    "Øystein",
    "Åse",
    "Geir",
    "Hilde",
    "Knut",
    "Liv",
    "Rune",
    "Siri",
    "Tor",
]
LAST_NAMES = [
    "Aasen",
    "Bakke",
    "Brekke",
    "Dale",
    "Eide",
    "Fjeld",
    "Flatebø",
    "Grov",
    "Haugland",
    "Helle",
    "Hjelmeland",
    "Kvamme",
    "Lunde",
    "Myklebust",
    "Nes",
    "Ness",
    "Osland",
    "Rygg",
    "Sande",
    "Skrede",
    "Solheim",
    "Strand",
    "Sunde",
    "Tveit",
    "Vassbotn",
    "Vik",
    "Øvrebø",
    "Årdal",
    "Hatlem",
    "Hegrenes",
    "Kjøsnes",
    "Loftesnes",
    "Nygard",
    "Sægrov",
    "Tenden",
]

HOLIDAYS = [
    ("Haustferie", dt.date(2026, 9, 28), dt.date(2026, 10, 2)),
    ("Planleggingsdag", dt.date(2026, 11, 20), dt.date(2026, 11, 20)),
    ("Juleferie", dt.date(2026, 12, 21), dt.date(2027, 1, 1)),
    ("Vinterferie", dt.date(2027, 3, 1), dt.date(2027, 3, 5)),
    ("Påskeferie", dt.date(2027, 3, 22), dt.date(2027, 3, 29)),
    ("Kristi himmelfartsdag", dt.date(2027, 5, 6), dt.date(2027, 5, 7)),
    ("Grunnlovsdag og 2. pinsedag", dt.date(2027, 5, 17), dt.date(2027, 5, 17)),
]


@dataclass
class DemoLogins:
    guardian: str
    contact_teacher: str
    office: str
    principal: str
    password: str
    totp_secret: str
    recovery_codes: list[str]
    # The demo guardian's husband, who shares parental responsibility (agrees to leave).
    other_guardian: str = f"foresett2@{DOMAIN}"


def _nin(rng: random.Random, born: dt.date, used: set[str]) -> str:
    ddmmyy = f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}"
    while True:
        nin = make_test_nin(ddmmyy, rng.randint(500, 999))
        if nin and nin not in used:
            used.add(nin)
            return nin


def _phone(rng: random.Random) -> str:
    return f"+47 4{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(100, 999)}"


def demo_exists() -> bool:
    return School.objects.filter(org_number=SCHOOL_ORG_NUMBER).exists()


def demo_school() -> School | None:
    return School.objects.filter(org_number=SCHOOL_ORG_NUMBER).first()


def _logins() -> DemoLogins:
    principal = User.objects.get(email=f"rektor@{DOMAIN}")
    recovery = Authenticator.objects.get(user=principal, type=Authenticator.Type.RECOVERY_CODES)
    return DemoLogins(
        guardian=f"foresett@{DOMAIN}",
        contact_teacher=f"kontaktlaerar@{DOMAIN}",
        office=f"kontor@{DOMAIN}",
        principal=principal.email or "",
        password=DEMO_PASSWORD,
        totp_secret=DEMO_TOTP_SECRET,
        recovery_codes=RecoveryCodes(recovery).get_unused_codes()[:3],
    )


def demo_logins() -> DemoLogins | None:
    """The logins of the demo loaded here, or None when there is none."""
    if not User.objects.filter(email=f"rektor@{DOMAIN}").exists():
        return None
    return _logins()


def load_demo(*, seed: int = 2026) -> tuple[DemoLogins, bool]:
    """Create the demo school unless it exists; return the logins and whether it was new."""
    if demo_exists():
        _national_ids()
        return _logins(), False
    with transaction.atomic():
        _build(random.Random(seed))
    return _logins(), True


def _national_ids() -> None:
    """A demo made before national login: give its parents and staff logins the
    identity numbers and Feide ids the stand-ins know (nothing else changes)."""
    from kontaktbok.schools.identity import nin_digest

    for email, nin in DEMO_NINS.items():
        User.objects.filter(email=email, nin_digest__isnull=True).update(nin_digest=nin_digest(nin))
    for email, feide_id in DEMO_FEIDE_IDS.items():
        StaffMember.objects.filter(user__email=email, feide_id="").update(feide_id=feide_id)


def _build(rng: random.Random) -> None:
    actor = None
    used_nins: set[str] = {
        *DEMO_NINS.values(),
        DEMO_UNKNOWN_NIN,
        DEMO_NURSE_NIN,
        *DEMO_PUPIL_NINS.values(),
    }
    municipality = services.municipality_create(
        actor=actor, name="Sunnfjord kommune", org_number="940000001"
    )
    school = services.school_create(
        actor=actor,
        municipality=municipality,
        name="Vassenden skule",
        org_number=SCHOOL_ORG_NUMBER,
        phone="+47 57 00 00 00",
    )
    year = services.school_year_create(
        actor=actor,
        school=school,
        name="2026–2027",
        starts_on=dt.date(2026, 8, 17),
        ends_on=dt.date(2027, 6, 18),
        holidays=HOLIDAYS,
    )
    classes: dict[str, Group] = {}
    for grade in range(1, 11):
        for letter in "AB":
            name = f"{grade}{letter}"
            classes[name] = services.group_create(
                actor=actor, school_year=year, name=name, grade=grade
            )
    sfo = services.group_create(actor=actor, school_year=year, name="SFO", kind=Group.Kind.SFO)

    def adult(email: str, full_name: str, password: str | None = None) -> object:
        return user_create(
            actor=actor, email=email, full_name=full_name, password=password, phone=_phone(rng)
        )

    # Staff: a contact teacher per class, a class team per grade, and every school role.
    staff_counter = 0

    def staff(full_name: str, title: str, email: str | None = None, password: str | None = None):
        nonlocal staff_counter
        staff_counter += 1
        email = email or f"tilsett{staff_counter}@{DOMAIN}"
        user = adult(email, full_name, password)
        member = services.staff_member_set(
            actor=actor,
            school=school,
            user=user,
            title=title,
            work_phone=_phone(rng),
            teams_address=email,
        )
        if email in DEMO_FEIDE_IDS:
            member.feide_id = DEMO_FEIDE_IDS[email]
            member.save(update_fields=["feide_id"])
        return member

    def adult_name() -> str:
        return f"{rng.choice(ADULT_FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

    contact_members = []
    for name, group in classes.items():
        if name == "4A":
            member = staff(
                "Marit Hjelmeland",
                "Kontaktlærar",
                email=f"kontaktlaerar@{DOMAIN}",
                password=DEMO_PASSWORD,
            )
        else:
            member = staff(adult_name(), "Kontaktlærar")
        contact_members.append(member)
        services.staff_role_grant(
            actor=actor, member=member, role=Role.CONTACT_TEACHER, group=group
        )
        services.staff_role_grant(actor=actor, member=member, role=Role.CLASS_TEAM, group=group)
    for grade in range(1, 11):
        member = staff(adult_name(), "Lærar")
        for letter in "AB":
            services.staff_role_grant(
                actor=actor, member=member, role=Role.CLASS_TEAM, group=classes[f"{grade}{letter}"]
            )
    office = staff("Sissel Kvamme", "Kontor", email=f"kontor@{DOMAIN}", password=DEMO_PASSWORD)
    services.staff_role_grant(actor=actor, member=office, role=Role.OFFICE)
    services.staff_role_grant(actor=actor, member=office, role=Role.SCHOOL_ADMIN)
    principal = staff(
        "Gunnar Myklebust", "Rektor", email=f"rektor@{DOMAIN}", password=DEMO_PASSWORD
    )
    services.staff_role_grant(actor=actor, member=principal, role=Role.LEADERSHIP)
    deputy = staff(adult_name(), "Assisterande rektor")
    services.staff_role_grant(actor=actor, member=deputy, role=Role.LEADERSHIP)
    for role, title in [
        (Role.ADVISOR, "Rådgjevar"),
        (Role.SOCIAL_TEACHER, "Sosiallærar"),
        (Role.SFO_LEADER, "SFO-leiar"),
    ]:
        services.staff_role_grant(actor=actor, member=staff(adult_name(), title), role=role)
    stages: dict[int, tuple[int, int]] = {}
    for grades in ((1, 7), (8, 10)):
        head = staff(adult_name(), f"Hovudstegsleiar {grades[0]}.–{grades[1]}. trinn")
        services.staff_role_grant(actor=actor, member=head, role=Role.HEAD_OF_STAGE)
        stages[head.pk] = grades
    sfo_leader = staff(adult_name(), "SFO-leiar")
    services.staff_role_grant(actor=actor, member=sfo_leader, role=Role.TEACHER, group=sfo)
    _directory(school, keeper=office.user, stages=stages)

    contact_teachers = {name: member for name, member in zip(classes, contact_members, strict=True)}
    # Whole-school roles must have a second factor: the principal and kontor (also the
    # school admin) share the demo's published one.
    for person in (principal, office):
        TOTP.activate(person.user, DEMO_TOTP_SECRET)
    RecoveryCodes.activate(principal.user)

    # Pupils: ten per class; families of one or two children; every kind of guardianship.
    guardian_counter = 0

    def guardian(full_name: str, email: str | None = None, password: str | None = None):
        nonlocal guardian_counter
        guardian_counter += 1
        born = dt.date(rng.randint(1972, 1992), rng.randint(1, 12), rng.randint(1, 28))
        email = email or f"foresett{guardian_counter}@{DOMAIN}"
        phone = _phone(rng)
        nin = _nin(rng, born, used_nins)
        return user_create(
            actor=actor,
            email=email,
            full_name=full_name,
            password=password,
            phone=phone,
            nin=DEMO_NINS.get(email, nin),
        )

    def pupil(group: Group, last_name: str, protected: bool = False, nin: str = ""):
        assert group.grade is not None
        born = dt.date(2020 - (group.grade - 1), rng.randint(1, 12), rng.randint(1, 28))
        groups = [group, sfo] if group.grade <= 4 and rng.random() < 0.4 else [group]
        first_name = rng.choice(FIRST_NAMES)
        generated = _nin(rng, born, used_nins)  # drawn even when given: the rest stays the same
        return services.pupil_create(
            actor=actor,
            school=school,
            first_name=first_name,
            last_name=last_name,
            date_of_birth=born,
            nin=nin or generated,
            protected_address=protected,
            groups=groups,
        )

    # The demo guardian: two children, one in 4A (grades 1–7) and one in 9B (grades 8–10).
    demo_parent = guardian("Kari Vassbotn", email=f"foresett@{DOMAIN}", password=DEMO_PASSWORD)
    other_parent = guardian("Per Vassbotn", email=f"foresett2@{DOMAIN}", password=DEMO_PASSWORD)
    for group_name in ("4A", "9B"):
        child = pupil(classes[group_name], "Vassbotn", nin=DEMO_PUPIL_NINS.get(group_name, ""))
        services.guardianship_set(actor=actor, guardian=demo_parent, pupil=child)
        services.guardianship_set(actor=actor, guardian=other_parent, pupil=child)
    _leave(municipality, year, demo_parent, other_parent, child)

    # Separated parents where only the mother has parental responsibility.
    child = pupil(classes["4A"], "Lunde")
    services.guardianship_set(actor=actor, guardian=guardian("Tone Lunde"), pupil=child)
    services.guardianship_set(
        actor=actor,
        guardian=guardian("Rune Osland"),
        pupil=child,
        parental_responsibility=False,
        lives_with_pupil=False,
        may_receive_information=False,
    )

    # A pupil with a protected address; the father must never see where the child is.
    child = pupil(classes["6B"], "Strand", protected=True)
    services.guardianship_set(actor=actor, guardian=guardian("Hilde Strand"), pupil=child)
    services.guardianship_set(
        actor=actor,
        guardian=guardian("Terje Ness"),
        pupil=child,
        lives_with_pupil=False,
        restricted=True,
    )

    for name, group in classes.items():
        while group.pupils.count() < 10:
            last_name = rng.choice(LAST_NAMES)
            first = pupil(group, last_name)
            parents = [guardian(f"{rng.choice(ADULT_FIRST_NAMES)} {last_name}")]
            if rng.random() < 0.85:
                parents.append(guardian(f"{rng.choice(ADULT_FIRST_NAMES)} {last_name}"))
            children = [first]
            sibling_grade = (group.grade or 1) + rng.choice([-3, -2, 2, 3])
            sibling_class = classes.get(f"{sibling_grade}{name[-1]}")
            if (
                sibling_class is not None
                and sibling_class.pupils.count() < 10
                and rng.random() < 0.3
            ):
                children.append(pupil(sibling_class, last_name))
            for parent in parents:
                for kid in children:
                    services.guardianship_set(actor=actor, guardian=parent, pupil=kid)

    _attendance_history(rng, year, classes, contact_teachers)
    _messages(school, classes, demo_parent, office.user)


# Office hours in the staff directory, by the first role a guardian may call them in.
OFFICE_HOURS = {
    Role.CONTACT_TEACHER: "Måndag–fredag 08.00–15.30",
    Role.ADVISOR: "Tysdag og torsdag 09.00–14.00",
    Role.SOCIAL_TEACHER: "Måndag–torsdag 08.30–15.00",
    Role.HEAD_OF_STAGE: "Måndag–fredag 08.00–15.30",
    Role.OFFICE: "Måndag–fredag 07.45–15.30",
    Role.SFO_LEADER: "Måndag–fredag 07.30–16.30",
    Role.LEADERSHIP: "Måndag–fredag 08.00–16.00",
}


def _directory(school: School, *, keeper: Any, stages: dict[int, tuple[int, int]]) -> None:
    """The staff directory as the school admin (``keeper``) keeps it: office hours for
    everyone guardians can call, and the grades of each head of stage (hovudstegsleiar)."""
    from kontaktbok.directory.services import directory_entry_update
    from kontaktbok.schools.models import StaffMember

    done: set[int] = set()
    for role, hours in OFFICE_HOURS.items():
        members = StaffMember.objects.filter(school=school, roles__role=role).order_by("pk")
        for member in members.distinct():
            if member.pk in done:
                continue
            done.add(member.pk)
            data: dict[str, Any] = {"office_hours": hours}
            if member.pk in stages:
                data["grade_from"], data["grade_to"] = stages[member.pk]
            directory_entry_update(actor=keeper, member=member, data=data)


def _leave(municipality: Any, year: Any, applicant: Any, other: Any, child: Any) -> None:
    """Sunnfjord's leave regulation, and one application (for the child in 9B) that both
    parents have agreed to and that waits for the contact teacher."""
    from django.core.exceptions import ValidationError

    from kontaktbok.core import clock
    from kontaktbok.leave import services as leave
    from kontaktbok.schools.selectors import school_days

    leave.municipality_leave_rules_set(
        actor=None,
        municipality=municipality,
        data={
            "regulation_name": "Forskrift om permisjon frå opplæringa i grunnskulen, "
            "Sunnfjord kommune",
            "rules_text": (
                "Søk om permisjon så tidleg som mogleg, og seinast to veker før. Permisjon "
                "blir berre gitt når opplæringa i heilskap er forsvarleg. Kontaktlæraren "
                "avgjer søknader om inntil tre skuledagar, rektor lengre permisjon. I "
                "permisjonstida har de føresette ansvaret for at eleven får opplæring, i "
                "samråd med kontaktlæraren. Vi gir normalt ikkje permisjon i første og siste "
                "skuleveke eller på prøvedagar."
            ),
            "appeal_body": "Statsforvaltaren i Vestland",
        },
    )
    days = school_days(year, clock.today() + dt.timedelta(days=60), year.ends_on)
    mondays = [d for d in days if d.weekday() == 0]
    if not mondays:
        return
    start = mondays[0]
    try:
        application = leave.leave_application_create(
            actor=applicant,
            pupil_id=child.pk,
            category="sport_culture",
            reason="Landsfinale i korps med skulekorpset i Trondheim.",
            learning_plan="Ho tek med lekseplanen og gjer arbeidet på kveldane.",
            start_date=start,
            end_date=start + dt.timedelta(days=1),
            rules_confirmed=True,
        )
        leave.leave_consent_answer(actor=other, application_id=application.pk, agree=True)
    except ValidationError:  # the days fall outside the school year: no example then
        return


def _attendance_history(
    rng: random.Random, year: Any, classes: dict[str, Group], contact_teachers: dict[str, Any]
) -> None:
    """Some registered absence in the last five weeks, so the history and statistics have
    something to show; one pupil in 4A is away every Monday (concerning absence)."""
    from kontaktbok.absence.services import Mark, attendance_register
    from kontaktbok.core import clock
    from kontaktbok.schools.selectors import school_days

    today = clock.today()
    days = [d for d in school_days(year, today - dt.timedelta(days=35), today) if d < today]
    reasons = ["", "", "Ringde kontoret", "Ved legen"]
    for name in ("4A", "9B", "1A", "7B"):
        group = classes[name]
        pupils = list(group.pupils.order_by("pk"))
        teacher = contact_teachers[name].user
        for day in days:
            marks = []
            if name == "4A" and day.weekday() == 0:
                marks.append(Mark(pupil_id=pupils[-1].pk, status="absent"))
            for pupil in rng.sample(pupils[:-1], k=rng.choice([0, 0, 1, 2])):
                if rng.random() < 0.25:
                    marks.append(
                        Mark(pupil_id=pupil.pk, status="late", late_minutes=rng.choice([5, 10, 20]))
                    )
                else:
                    marks.append(
                        Mark(pupil_id=pupil.pk, status="absent", staff_reason=rng.choice(reasons))
                    )
            # Registered on the day itself, as the teacher did: not past the limit back.
            with override_settings(ATTENDANCE_DAYS_BACK=(today - day).days):
                attendance_register(actor=teacher, group_id=group.pk, date=day, marks=marks)


def _messages(school: School, classes: dict[str, Group], parent: Any, admin: Any) -> None:
    """The school's message settings (guardians may also write to the advisor and the social
    teacher), and a message from the demo guardian waiting for the 4A contact teacher."""
    from kontaktbok.messaging.services import messaging_settings_save, thread_start_by_guardian

    messaging_settings_save(
        actor=admin,
        school_id=school.pk,
        guardian_roles=[Role.ADVISOR, Role.SOCIAL_TEACHER],
        max_attachment_mb=10,
    )
    child = classes["4A"].pupils.get(guardianships__guardian=parent)
    thread_start_by_guardian(
        actor=parent,
        pupil_id=child.pk,
        roles=[Role.CONTACT_TEACHER],
        subject="Foreldremøte",
        body="Hei! Kva tid er foreldremøtet i desember?",
    )
