"""The account Vigil acts as when the governance policy acts by itself (an automatic suspension under the
incident policy, the scheduled kill-switch test): a real user row, so every record that names an actor names it,
that can never log in (inactive, no usable password, no role, no token)."""

from django.contrib.auth import get_user_model

USERNAME = "vigil-system"


def system_user():
    user, created = get_user_model().objects.get_or_create(
        username=USERNAME,
        defaults={"first_name": "Vigil", "last_name": "(governance policy)", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
