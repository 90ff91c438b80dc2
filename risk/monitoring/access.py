"""Who may report and read a model's monitoring data.

Reading follows the model: whoever may see it reads its monitoring (the API answers 404 otherwise). Reporting
is for the model's own team, its owner and developers (trading systems' service accounts join in the alerts
issue).
"""

from governance.core.access import is_active


def can_push(user, model) -> bool:
    if not is_active(user):
        return False
    return model.owner_id == user.pk or model.developers.filter(pk=user.pk).exists()
