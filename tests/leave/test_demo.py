"""The demo school has Sunnfjord's leave regulation, a login for the other parent, and one
application that waits for the 9B contact teacher."""

from django.contrib.auth import get_user_model

from kontaktbok.demo.data import load_demo
from kontaktbok.leave import selectors
from kontaktbok.leave.models import LeaveApplication
from kontaktbok.schools.models import School


def test_the_demo_has_leave_rules_and_an_application(db):
    logins, _ = load_demo()
    school = School.objects.get(name="Vassenden skule")
    rules = selectors.rules_for(school)
    assert rules.pk is not None and "Sunnfjord kommune" in rules.regulation_name
    assert rules.appeal_body == "Statsforvaltaren i Vestland"
    other = get_user_model().objects.get(email=logins.other_guardian)
    assert other.check_password(logins.password)
    application = LeaveApplication.objects.get()
    assert application.status == LeaveApplication.Status.SUBMITTED
    assert application.pupil.groups.filter(name="9B").exists()
    assert application.consents.get().guardian == other
    load_demo()
    assert LeaveApplication.objects.count() == 1
