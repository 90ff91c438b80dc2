"""factory-boy factories. Models are created through the services, so grants and audit are real."""

import hashlib
import itertools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from governance.core.models import Desk, UserProfile
from governance.demo.walk import walk
from models_registry import services
from models_registry.models import DataSource, Model, ModelVersion

User = get_user_model()
PASSWORD = "correct-horse-battery-staple"
_seq = itertools.count(1)


class DeskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Desk
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"desk-{n}")
    name = factory.Sequence(lambda n: f"Desk {n}")
    business_line = "Equities"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@vigil.example")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        self.save()
        if extracted:
            self.groups.add(*[Group.objects.get_or_create(name=r)[0] for r in extracted])

    @factory.post_generation
    def desk(self, create, extracted, **kwargs):
        UserProfile.objects.get_or_create(user=self, defaults={"desk": extracted})


def token_for(user) -> str:
    """A new API token of `user`'s (a person's expires after the configured lifetime), as the token endpoint gives."""
    from governance.core import api_tokens

    return api_tokens.token_issue(user, lifetime=api_tokens.person_lifetime())[1]


def make_model(actor, *, owner, developers, validator=None, desk=None, key=None, **overrides) -> Model:
    """A model registered through model_create; its status follows its versions."""
    n = next(_seq)
    fields = {
        "key": key or f"model-{n}",
        "name": f"Model {n}",
        "purpose": "alpha",
        "desk": desk or DeskFactory(),
        "model_type": "gradient_boosting",
        "asset_classes": ["equities"],
        "intended_use": "Intraday signal for the desk's own book.",
        "known_limitations": "Untested in crises.",
        "notional_at_stake": "50000000",
        "downstream_consumers": 1,
        "complexity_rating": "medium",
        "explainability_rating": "medium",
        "owner": owner,
        "validator": validator,
        **overrides,
    }
    return services.model_create(actor, developers=list(developers), **fields)


def make_version(actor, model, *, label=None, status=None, **overrides) -> ModelVersion:
    label = label or f"1.{next(_seq)}"
    digest = hashlib.sha256(f"{model.key}{label}".encode()).hexdigest()
    fields = {
        "version": label,
        "artifact_uri": f"s3://artifacts/{model.key}/{label}",
        "artifact_sha256": digest,
        "code_revision": digest[:10],
        "hyperparameters": {"depth": 4},
        "claimed_performance": {"sharpe": 1.2},
        **overrides,
    }
    version = services.version_create(actor, model, **fields)
    if status:
        # Through the real lifecycle (submission, signed validation, approvals, pilot, promotion), as the demo
        # seed does: every test version in production has its history and can be rolled back.
        version = walk(version, status, lambda user: PASSWORD)
        version = ModelVersion.objects.select_related("model").get(pk=version.pk)
    return version


def make_data_source(actor, *, classification="internal", name=None, **overrides) -> DataSource:
    n = next(_seq)
    fields = {
        "name": name or f"Source {n}",
        "kind": "market_data",
        "collection_method": "vendor_feed",
        "storage_location": f"s3://data/{n}",
        "classification": classification,
        "retention_days": 365,
        **overrides,
    }
    return services.data_source_create(actor, **fields)
