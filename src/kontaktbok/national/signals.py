from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from kontaktbok.national import services


@receiver(user_logged_in)
def national_login_completed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        services.login_completed(request, user)
