"""Which stored records the access export covers, and which it leaves out on purpose.

Every model with a key to a person (the user model) or a pupil, directly or through
other rows (a message through its thread, a decision through its application), is named
here, with where its rows go in ``data.json`` or why they are left out; a test fails when
a new model with such a key is named in neither list (``tests/privacy/test_services.py``).
"""

# model label → where in data.json
COVERED: dict[str, str] = {
    "accounts.user": "account (never the password hash or the identity number's digest)",
    "accounts.user_groups": "account.technical_admin.groups",
    "accounts.user_user_permissions": "account.technical_admin.permissions",
    "accounts.invitation": "account.invitations (those sent to the person)",
    "account.emailaddress": "account.email_addresses",
    "mfa.authenticator": "account.second_factors (kind and dates, never the secrets)",
    "core.auditentry": (
        "account.history (the person's own account, export and notification settings "
        "actions) and children[].access_log (who has seen the child's data)"
    ),
    "schools.pupil": "children[] (the children the person may see as guardian)",
    "schools.group_pupils": "children[].groups",
    "schools.guardianship": "children[].guardianship (the person's own)",
    "schools.staffmember": "staff[]",
    "schools.staffrole": "staff[].roles",
    "directory.directoryentry": "staff[].directory",
    "roster.rosterkey": "account.roster_ids (at the schools the person may see)",
    "absence.absencereport": "children[].absence_reports",
    "absence.attendancemark": "children[].attendance_marks",
    "absence.leaveexplanation": "children[].leave_days",
    "absence.lookupcase": "children[].lookup_cases, with the timeline a guardian sees",
    "absence.dailycheck": "work.daily_checks (the checks the person made; no pupils)",
    "leave.leaveapplication": "children[].leave_applications",
    "leave.consent": "children[].leave_applications[].consents and consents[]",
    "leave.decision": "children[].leave_applications[].decisions, letters/ in the ZIP",
    "leave.appeal": "children[].leave_applications[].appeal, letters/ in the ZIP",
    "messaging.thread": "messages.threads (the threads the person is on)",
    "messaging.participant": "messages.threads[].participants",
    "messaging.message": "messages.threads[].messages",
    "messaging.attachment": "messages.threads[].messages[].attachments, attachments/ in the ZIP",
    "messaging.attachmentcontent": "attachments/ in the ZIP, decrypted",
    "messaging.broadcast": "messages.broadcasts_sent (subject, groups and count only)",
    "messaging.broadcast_groups": "messages.broadcasts_sent[].groups",
    "notifications.notification": "notifications.items",
    "notifications.delivery": "notifications.items[].deliveries",
    "notifications.preference": "notifications.preferences",
    "notifications.digestchoice": "notifications.daily_digest",
    "notifications.pushsubscription": "notifications.push_devices (never the keys)",
    "privacy.dataexport": "exports",
    "submissions.submission": "submissions[]",
    "archive.archivedelivery": (
        "submissions[] (title, case number, state and journal reference; the sender's "
        "identity or organisation number is sent to the archive, not shown back in full)"
    ),
}

# model label → why its rows stay out
EXCLUDED: dict[str, str] = {
    "national.nationalsession": (
        "which login session an ID-porten or Feide session id started, kept only while the "
        "session lasts, to end it when the person logs out elsewhere; no content"
    ),
    "socialaccount.socialaccount": (
        "never written: a national login is matched to the account, not stored on a social "
        "account (docs/login.md)"
    ),
    "socialaccount.socialtoken": "never written (SOCIALACCOUNT_STORE_TOKENS is off)",
    "admin.logentry": (
        "the technical admin's change log: a work log whose object descriptions name other "
        "people; superusers only, and the account itself is given in full"
    ),
    "account.emailconfirmation": (
        "a pending confirmation of a new e-mail address: only its one-time key, a secret; "
        "the address is in account.email_addresses"
    ),
    "roster.rosterimport": (
        "a roster file a staff member read in: the records of other people (pupils, "
        "guardians, staff), kept only until it is applied"
    ),
    "privacy.dataexportfile": "the encrypted copy itself, which is what is downloaded",
    "privacy.legalhold": (
        "a hold on a pupil's records for a complaint, a court case or the police: its reason "
        "may concern an investigation; every record it keeps is in the copy"
    ),
    "privacy.retentionchoice": (
        "the municipality's number of days for a retention rule, with who set it: a setting "
        "of the municipality, not about the person"
    ),
    "archive.archivedocument": (
        "the files of a submission on their way to the municipality's archive, encrypted; "
        "the archive holds them (ask the municipality), and they are deleted here 30 days "
        "after its receipt"
    ),
    "archive.archiveanswer": "the archive's technical answers (receipt XML) to a delivery",
    "archive.fiksmessage": "Fiks IO's message ids for the sends of a delivery",
    "archive.archiveunit": "a unit's archive settings; its staff are a work setting",
    "archive.archiveunit_responsible_staff": (
        "which staff are told when a delivery fails: a work setting, in staff[] as the role"
    ),
    "submissions.draft": "a form not yet sent, deleted after a day",
    "submissions.draftfile": "a file of a form not yet sent, deleted with it after a day",
}

COVERED.update(
    {
        "relaylog.relaylog": "relay_logs[] (the logs the person takes part in and may read)",
        "relaylog.participant": "relay_logs[].participants and relay_logs[].my_part",
        "relaylog.consent": "relay_logs[].consents",
        "relaylog.attachment": "relay_logs[].entries[].attachment, relay-logs/ in the ZIP",
        "relaylog.handover": "relay_logs[].holders",
        "relaylog.goal": "relay_logs[].plan",
        "relaylog.measure": "relay_logs[].plan[].measures",
        "relaylog.evaluation": "relay_logs[].plan[].measures[].evaluations",
        "relaylog.entry": "relay_logs[].entries",
        "relaylog.closeddocument": "relay_logs[].document, relay-logs/ in the ZIP",
    }
)
EXCLUDED.update(
    {
        "relaylog.joinlink": (
            "the one-time link sent to a person invited to a relay log: only its digest, a "
            "secret, kept until 30 days after it stops working; the participation is in "
            "relay_logs[].participants"
        ),
        "relaylog.relaylogcreator": (
            "which staff members leiing lets open relay logs: a work setting, no pupil"
        ),
        "privacy.yearrecord": (
            "the record that a child's year-end document (attendance, absence and leave "
            "decisions of a school year) went to the archive, with its reference; what it "
            "holds is in children[] while kept here, and in the archive after (ask the "
            "municipality)"
        ),
    }
)
