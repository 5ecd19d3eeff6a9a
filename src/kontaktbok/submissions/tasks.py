from django.tasks import task

from kontaktbok.core.scheduler import periodic
from kontaktbok.submissions import services


@periodic(every_minutes=60)
@task
def delete_old_drafts() -> int:
    """Drafts never sent are deleted after a day."""
    return services.drafts_delete_old()
