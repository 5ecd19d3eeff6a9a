import time, re
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import totp_now

def dump(b, name):
    open(f"/tmp/probe/{name}.html","w").write(b.page.content())
    res = b.axe.run(b.page, options={"runOnly": {"type": "tag", "values": ["wcag2a","wcag2aa","wcag21a","wcag21aa"]}, "resultTypes": ["violations"]})
    print(name, b.page.url, res.generate_snapshot())

def login(b, email, pw):
    p=b.page
    p.goto(b.url("/accounts/login/"))
    p.fill("#id_login", email); p.fill("#id_password", pw)
    p.click("main button[type=submit]")
    p.wait_for_load_state()

def test_probe(desktop: Browsing, demo, browser, live_server):
    from kontaktbok.schools.models import Pupil, School
    t=time.time()
    b=desktop; p=b.page
    login(b, demo.guardian, demo.password); dump(b, "guardian_home")
    p.locator("[data-testid=child] a").first.click(); p.wait_for_load_state(); dump(b, "pupil")
    other = Pupil.objects.exclude(guardianships__guardian__email=demo.guardian).first()
    r = p.goto(b.url(f"/pupils/{other.pk}/")); print(r.status); dump(b, "404")
    p.goto(b.url("/")); p.get_by_role("button", name=re.compile("Log out|Logg ut")).click(); p.wait_for_load_state(); dump(b, "after_logout")
    login(b, demo.contact_teacher, demo.password); dump(b, "teacher_home")
    p.get_by_role("link", name=re.compile("^Open")).click(); p.wait_for_load_state(); dump(b, "group")
    p.context.clear_cookies()
    login(b, demo.office, demo.password); dump(b, "office_home")
    school = School.objects.get()
    p.goto(b.url(f"/schools/{school.pk}/")); dump(b, "overview")
    p.goto(b.url(f"/schools/{school.pk}/settings/")); dump(b, "settings")
    p.fill("[name=escalation_minutes]", "90"); p.click("main form button[type=submit]"); p.wait_for_load_state(); dump(b, "settings_err")
    p.context.clear_cookies()
    login(b, demo.principal, demo.password); dump(b, "mfa")
    p.fill("input[name=code]", totp_now(demo.totp_secret)); p.click("main form button[type=submit]"); p.wait_for_load_state(); dump(b, "principal_home")
    p.goto(b.url("/audit/")); dump(b, "audit")
    p.context.clear_cookies()
    p.goto(b.url("/accounts/login/"))
    p.fill("#id_login", "x@y.test"); p.fill("#id_password", "wrongwrong"); p.click("main button[type=submit]"); p.wait_for_load_state(); dump(b, "badlogin")
    print(b.problems)
    ctx = browser.new_context(locale="nn-NO", service_workers="block"); pg = ctx.new_page()
    pg.goto(live_server.url + "/accounts/login/"); print(pg.evaluate("document.documentElement.lang"), pg.evaluate("navigator.languages"))
    open("/tmp/probe/login_nn.html","w").write(pg.content())
    print("elapsed", time.time()-t)
