"""allauth's second-factor stage, skipped when the national login itself had two factors
(ID-porten at substantial or high, Feide's MFA level)."""

from typing import Any

from allauth.mfa.stages import AuthenticateStage as AllauthAuthenticateStage

from kontaktbok.national.services import pending_for


class AuthenticateStage(AllauthAuthenticateStage):
    def _should_handle(self, request: Any) -> bool:
        if self.login.user is not None:
            pending = pending_for(request, self.login.user)
            if pending and pending.get("mfa"):
                return False
        return super()._should_handle(request)
