"""The default rate limits per bucket (see ``kontaktbok.core.ratelimit``), apart so that
the settings and the benchmark can read them without Django.

AMOUNT/PERIOD/user|ip, several separated by commas. The address limits are high because a
whole school's staff may share one address."""

DEFAULTS = {
    "absence.report": "20/h/user,300/h/ip",
    "leave.apply": "20/h/user,300/h/ip",
    "messages.send": "60/h/user,600/h/ip",
    "messages.group": "10/h/user,100/h/ip",
    "push.subscribe": "30/h/user,300/h/ip",
    "api.write": "300/h/user,3000/h/ip",
    "accounts.invitation": "20/h/ip",
    "accounts.invite": "300/h/user,3000/h/ip",
    "privacy.export": "10/d/user,300/h/ip",
}
