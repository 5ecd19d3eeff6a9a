"""After a restore: the restored file key opens the restored attachments."""

import hashlib

from kontaktbok.backups.archive import BackupError, restore_check
from kontaktbok.messaging import files
from kontaktbok.messaging.models import Attachment


@restore_check
def attachments_open(sample: int) -> str:
    """Decrypt a sample of attachments and compare each with its recorded checksum."""
    chosen = Attachment.objects.select_related("content").order_by("?")[:sample]
    for attachment in chosen:
        data = files.decrypt(bytes(attachment.content.ciphertext), name=str(attachment.uuid))
        if hashlib.sha256(data).hexdigest() != attachment.sha256:
            raise BackupError(f"Attachment {attachment.pk} does not match its checksum.")
    return f"attachments: {len(chosen)} of {Attachment.objects.count()} decrypted and checked"
