"""What the archive tells the apps that deliver through it."""

from django.dispatch import Signal

# Sent in the transaction that stores the archive's receipt, with ``delivery`` (its
# ``source`` and ``external_key`` name what was delivered) and ``reference`` (the journal
# post's reference). The app that delivered records the receipt in the same transaction.
delivery_archived = Signal()
