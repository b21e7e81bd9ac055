from __future__ import annotations

from typing import Any, cast

import factory

from accounts.models import User

PASSWORD = "secret123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    phone = factory.Sequence(lambda n: f"1390000{n:04d}")

    @factory.post_generation
    def password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


def make_user(**fields: Any) -> User:
    """``UserFactory(...)`` typed as the model it creates."""
    return cast(User, UserFactory(**fields))


def make_friends(a: User, b: User) -> None:
    """Make two users friends at once, as an operator does (no request, no approval)."""
    from accounts.services import friend_add_direct

    friend_add_direct(user=a, friend_id=b.pk)
