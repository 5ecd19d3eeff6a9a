"""Who may change the staff directory (django-rules). Reads are scoped in ``selectors``."""

import rules

from kontaktbok.schools.rules import is_school_admin_of

# The school admin keeps the directory of their own school.
rules.add_perm("directory.change_entry", is_school_admin_of)
