"""Enumerations of the model inventory, with the labels people read in the UI and exports."""

from django.db import models


class LifecycleStatus(models.TextChoices):
    """Where a model version (and, following its versions, a model) stands in its lifecycle (INV-02)."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for validation"
    IN_VALIDATION = "in_validation", "In validation"
    VALIDATED = "validated", "Validated"
    VALIDATED_WITH_CONDITIONS = "validated_with_conditions", "Validated with conditions"
    REJECTED = "rejected", "Rejected"
    APPROVED = "approved", "Approved for deployment"
    PILOT = "pilot", "Pilot"
    PRODUCTION = "production", "Production"
    SUSPENDED = "suspended", "Suspended"
    RETIRED = "retired", "Retired"


# Statuses in which a model may be used for trading, and so in which traders of its desk see it.
TRADEABLE_STATUSES = (LifecycleStatus.APPROVED, LifecycleStatus.PILOT, LifecycleStatus.PRODUCTION)
# What a trader sees of their desk: the tradeable models and versions, and the suspended ones (a trader must
# see that a model they trade with was stopped; the gate tells them why).
TRADER_VISIBLE_STATUSES = (*TRADEABLE_STATUSES, LifecycleStatus.SUSPENDED)


class Purpose(models.TextChoices):
    ALPHA = "alpha", "Alpha signal"
    EXECUTION = "execution", "Execution"
    RISK = "risk", "Risk"
    PRICING = "pricing", "Pricing"
    OTHER = "other", "Other"


# Algorithmic-trading models: those whose purpose is an alpha signal or execution (they decide orders); MiFID II
# Art. 17 and RTS 6 (the supervisor packs, the kill-switch tests) are about them.
ALGORITHMIC_PURPOSES = (Purpose.ALPHA, Purpose.EXECUTION)


class ModelType(models.TextChoices):
    LINEAR_REGRESSION = "linear_regression", "Linear regression"
    LOGISTIC_REGRESSION = "logistic_regression", "Logistic regression"
    DECISION_TREE = "decision_tree", "Decision tree"
    RANDOM_FOREST = "random_forest", "Random forest"
    GRADIENT_BOOSTING = "gradient_boosting", "Gradient boosting"
    SVM = "svm", "Support vector machine"
    DEEP_LEARNING = "deep_learning", "Deep learning"
    RULE_BASED = "rule_based", "Rule-based"
    OTHER = "other", "Other"


class AssetClass(models.TextChoices):
    EQUITIES = "equities", "Equities"
    RATES = "rates", "Rates"
    CREDIT = "credit", "Credit"
    FX = "fx", "FX"
    COMMODITIES = "commodities", "Commodities"
    CRYPTO = "crypto", "Digital assets"
    MULTI_ASSET = "multi_asset", "Multi-asset"


class Rating(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RiskTier(models.IntegerChoices):
    TIER_1 = 1, "Tier 1 (highest risk)"
    TIER_2 = 2, "Tier 2"
    TIER_3 = 3, "Tier 3 (lowest risk)"


class DataSourceKind(models.TextChoices):
    MARKET_DATA = "market_data", "Market data feed"
    OMS = "oms", "Order management system"
    ALTERNATIVE = "alternative", "Alternative data"
    INTERNAL = "internal", "Internal"


class CollectionMethod(models.TextChoices):
    EXCHANGE_FEED = "exchange_feed", "Direct exchange feed"
    VENDOR_FEED = "vendor_feed", "Vendor feed"
    API = "api", "API pull"
    BATCH_FILE = "batch_file", "Batch file delivery"
    INTERNAL_SYSTEM = "internal_system", "Internal system capture"
    MANUAL = "manual", "Manual entry"


class Classification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class DataUsage(models.TextChoices):
    TRAINING = "training", "Training"
    INFERENCE = "inference", "Inference"
