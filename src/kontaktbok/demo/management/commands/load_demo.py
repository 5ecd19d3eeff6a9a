from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kontaktbok.demo.data import demo_logins, load_demo


class Command(BaseCommand):
    help = "Create the demo school Vassenden skule (keeps existing data) and print logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--logins-only", action="store_true", help="print the logins of a loaded demo"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            # The demo's logins share one published password and a published TOTP key.
            raise CommandError("The demo school is never loaded in the production profile.")
        if options["logins_only"]:
            logins = demo_logins()
            if logins is None:
                raise CommandError("There is no demo school here: kontaktbok demo loads it.")
        else:
            logins, created = load_demo()
            self.stdout.write(
                "The demo school Vassenden skule was created."
                if created
                else "The demo school Vassenden skule exists already; nothing was changed."
            )
        self.stdout.write(
            "\nLogins (password for all: {p})\n"
            "  Guardian (two children, 4A and 9B): {g}\n"
            "  The other parent (agrees to leave): {g2}\n"
            "  Contact teacher of 4A:              {t}\n"
            "  Office (kontor, school admin):      {o}\n"
            "  Principal (leiing):                 {r}\n"
            "    Both have two-factor login: add the key {s} to an authenticator app;\n"
            "    the principal may also use one of these recovery codes: {c}\n".format(
                p=logins.password,
                g=logins.guardian,
                g2=logins.other_guardian,
                t=logins.contact_teacher,
                o=logins.office,
                r=logins.principal,
                s=logins.totp_secret,
                c=", ".join(logins.recovery_codes),
            )
        )
