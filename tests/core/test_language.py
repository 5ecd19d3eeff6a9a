from django.test import Client


def test_nynorsk_is_the_default_whatever_the_browser_says(db):
    response = Client(headers={"accept-language": "en-US,en;q=0.9"}).get("/accounts/login/")
    assert response["Content-Language"] == "nn"
    assert '<html lang="nn"' in response.content.decode()
    assert "Logg inn" in response.content.decode()


def test_the_chosen_language_is_kept(db):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "nb", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get("/accounts/login/")
    assert '<html lang="nb"' in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en"' in client.get("/accounts/login/").content.decode()


def test_a_users_own_language_applies_after_login(world):
    world.guardian_a.language = "en"
    world.guardian_a.save(update_fields=["language"])
    client = Client()
    client.force_login(world.guardian_a)
    assert "My children" in client.get("/").content.decode()


def test_not_found_page_is_in_the_users_language(world):
    client = Client()
    client.force_login(world.guardian_b)
    response = client.get(f"/pupils/{world.child_a.pk}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Fann ikkje sida" in html
    assert world.child_a.first_name not in html


def test_the_choice_is_kept_on_the_account_for_other_devices_and_notifications(world):
    """A guardian picks English on the phone: the laptop shows English after login, and
    what the school sends them is in English."""
    from kontaktbok.notifications import channels, services

    phone = Client()
    phone.force_login(world.guardian_a)
    response = phone.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    world.guardian_a.refresh_from_db()
    assert world.guardian_a.language == "en"
    laptop = Client()
    laptop.force_login(world.guardian_a)
    assert "My children" in laptop.get("/").content.decode()
    notification = services.notify(
        recipient=world.guardian_a, kind="notifications.test", dedup_key="lang"
    )
    assert channels.render(notification).title == "Test from kontaktbok"
    # A value that is no language changes nothing.
    phone.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    world.guardian_a.refresh_from_db()
    assert world.guardian_a.language == "en"


def test_choosing_a_language_before_login_needs_no_account(db):
    response = Client().post("/i18n/setlang/", {"language": "nb", "next": "/accounts/login/"})
    assert response.status_code == 302


def test_dates_are_written_as_each_language_writes_them():
    import datetime as dt

    from django.template import Context, Template
    from django.utils import translation

    template = Template('{{ day|longdate:"l j. F Y" }}')
    day = dt.date(2026, 11, 30)
    with translation.override("en"):
        assert template.render(Context({"day": day})) == "Monday 30 November 2026"
    with translation.override("nn"):
        assert template.render(Context({"day": day})) == "måndag 30. november 2026"
    with translation.override("nb"):
        assert template.render(Context({"day": day})) == "mandag 30. november 2026"


def test_the_empty_choice_of_a_select_is_in_the_pages_language():
    """Django's own "- Select an option -" has no Norwegian translation of its own."""
    from django.db.models.fields import BLANK_CHOICE_LABEL
    from django.utils import translation

    with translation.override("nn"):
        assert str(BLANK_CHOICE_LABEL) == "- Vel eit alternativ -"
    with translation.override("nb"):
        assert str(BLANK_CHOICE_LABEL) == "- Velg et alternativ -"
