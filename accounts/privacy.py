"""What one user may see of another's contact details (phone number, e-mail address).

Every protocol that shows a user's phone or e-mail to someone (the ``im/*`` user objects, the
native ``web.account.myInfo``) asks ``contact_details`` for them, so the rule lives here once:

* the owner sees their own phone and e-mail;
* a friend sees the phone only while the owner lets others find them by phone
  (``phone_searchable``) and has not blacklisted them; never the e-mail, which no setting
  makes visible;
* anyone else sees neither: being a party to a payment, an exchange offer or a chat does not
  reveal them.
"""
from __future__ import annotations

from typing import TypedDict

from accounts.models import User
from accounts.selectors import are_friends, has_blocked


class ContactDetails(TypedDict):
    phone: str | None
    email: str | None


def contact_details(owner: User, *, reader_id: int | None) -> ContactDetails:
    """``owner``'s phone and e-mail as ``reader_id`` may see them (None where hidden or unset)."""
    if reader_id is not None and reader_id == owner.pk:
        return {"phone": owner.phone or None, "email": owner.email or None}
    phone = None
    if (owner.phone and owner.phone_searchable and reader_id is not None and are_friends(owner.pk, reader_id)
            and not has_blocked(owner.pk, reader_id)):
        phone = owner.phone
    return {"phone": phone, "email": None}
