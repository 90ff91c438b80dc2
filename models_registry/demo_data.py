"""The demo trading firm that `seed_demo` builds: desks, people, data sources and about 25 models."""

DESKS = [
    ("sys-eq", "Systematic Equities", "Equities"),
    ("eq-d1", "Equity Delta One", "Equities"),
    ("rates", "Rates Trading", "Fixed Income"),
    ("credit", "Credit Trading", "Fixed Income"),
    ("fx", "FX Spot and Forwards", "Currencies"),
    ("commod", "Commodities", "Commodities"),
    ("exec", "Electronic Execution", "Execution Services"),
    ("mkt-risk", "Market Risk", "Risk"),
]

# username, first, last, roles, desk code, title
USERS = [
    ("developer", "Priya", "Natarajan", ["developer"], "sys-eq", "Quantitative developer"),
    ("developer2", "Tomasz", "Kowalski", ["developer"], "rates", "Quantitative developer"),
    ("owner", "Helen", "Marsh", ["owner"], "sys-eq", "Head of Systematic Equities"),
    ("owner2", "Daniel", "Osei", ["owner"], "rates", "Head of Rates Trading"),
    ("validator", "Miguel", "Ferreira", ["validator"], None, "Model validator"),
    ("validator2", "Aiko", "Tanaka", ["validator"], None, "Senior model validator"),
    ("compliance", "Rachel", "Adeyemi", ["compliance"], None, "Model risk officer"),
    ("compliance2", "Jonas", "Lindqvist", ["compliance"], None, "Compliance officer"),
    ("auditor", "Claire", "Dubois", ["auditor"], None, "Internal auditor"),
    ("trader", "Sam", "Whitfield", ["trader"], "sys-eq", "Systematic trader"),
]

# name, kind, collection method, classification, owner, retention days, storage, quality rules
DATA_SOURCES = [
    ("Bloomberg B-PIPE equities", "market_data", "vendor_feed", "internal", "owner", 2555,
     "kafka://md-prod/bpipe.equities", "Stale quote > 2s flagged; crossed markets dropped."),
    ("CME MDP 3.0 futures", "market_data", "exchange_feed", "internal", "owner2", 2555,
     "s3://md-archive/cme-mdp3/", "Sequence gaps trigger recovery; gap count reported daily."),
    ("Refinitiv tick history", "market_data", "batch_file", "internal", "owner", 3650,
     "s3://md-archive/refinitiv-th/", "Daily row-count reconciliation against vendor manifest."),
    ("FX ECN aggregated quotes", "market_data", "vendor_feed", "internal", "owner2", 1825,
     "kafka://md-prod/fx.ecn", "Quotes older than 250 ms are discarded."),
    ("Internal OMS fills", "oms", "internal_system", "confidential", "owner", 2555,
     "postgres://oms-replica/fills", "Every fill carries an algo_id; orphan fills alert."),
    ("Firm positions and P&L", "internal", "internal_system", "confidential", "owner2", 3650,
     "postgres://risk-dw/positions", "End-of-day positions reconcile to the books and records."),
    ("News sentiment feed", "alternative", "api", "internal", "owner", 1095,
     "s3://altdata/news-sentiment/", "Vendor entity mapping checked weekly."),
    ("Consumer card transaction panel", "alternative", "batch_file", "restricted", "owner", 1825,
     "s3://altdata-restricted/card-panel/", "Panel is aggregated to merchant level; no personal data leaves the vendor."),
    ("Satellite parking-lot counts", "alternative", "api", "confidential", "owner", 1095,
     "s3://altdata/satellite/", "Cloud-cover filter; counts with confidence < 0.8 dropped."),
    ("Credit curves (internal marks)", "internal", "internal_system", "internal", "owner2", 3650,
     "postgres://risk-dw/credit-curves", "Marks validated by IPV monthly."),
]

# Teams: owner and developers of a model.
TEAMS = {"a": ("owner", ["developer"]), "b": ("owner2", ["developer2"]), "ab": ("owner", ["developer", "developer2"])}
A, B, AB = "a", "b", "ab"

# key, name, purpose, desk, type, assets, notional, consumers, complexity, explainability, status, team, validator,
# vendor, feeders
MODELS = [
    ("eq-momentum-us", "US equity momentum signal", "alpha", "sys-eq", "gradient_boosting", ["equities"],
     "250000000", 3, "high", "low", "production", A, "validator", None, []),
    ("eq-meanrev-eu", "European equity mean reversion", "alpha", "sys-eq", "linear_regression", ["equities"],
     "80000000", 1, "medium", "high", "pilot", A, "validator", None, []),
    ("eq-earnings-nlp", "Earnings-call NLP sentiment", "alpha", "sys-eq", "deep_learning", ["equities"],
     "40000000", 2, "high", "low", "in_validation", A, "validator2", None, []),
    ("eq-card-spend", "Consumer spend nowcast from card panel", "alpha", "sys-eq", "random_forest", ["equities"],
     "25000000", 1, "medium", "medium", "submitted", A, "validator", None, []),
    ("eq-retail-traffic", "Retail footfall from satellite counts", "alpha", "sys-eq", "gradient_boosting",
     ["equities"], "15000000", 0, "medium", "medium", "draft", A, None, None, []),
    ("eq-pairs-stat-arb", "Equity pairs statistical arbitrage", "alpha", "eq-d1", "linear_regression", ["equities"],
     "120000000", 2, "medium", "high", "approved", A, "validator2", None, []),
    ("eq-index-arb", "Index arbitrage fair value", "pricing", "eq-d1", "rule_based", ["equities"],
     "300000000", 4, "low", "high", "production", A, "validator", None, []),
    ("eq-short-interest", "Short-interest crowding score", "alpha", "eq-d1", "logistic_regression", ["equities"],
     "5000000", 0, "low", "high", "retired", A, "validator", None, []),
    ("eq-vol-regime", "Volatility regime classifier", "risk", "sys-eq", "svm", ["equities", "multi_asset"],
     "60000000", 6, "medium", "medium", "validated", AB, "validator2", None, []),
    ("rates-curve-pca", "Rates curve PCA relative value", "alpha", "rates", "linear_regression", ["rates"],
     "500000000", 2, "medium", "high", "production", B, "validator2", None, []),
    ("rates-swap-spread", "Swap-spread mean reversion", "alpha", "rates", "gradient_boosting", ["rates"],
     "150000000", 1, "high", "medium", "suspended", B, "validator", None, []),
    ("rates-auction-tail", "Treasury auction tail predictor", "alpha", "rates", "random_forest", ["rates"],
     "30000000", 0, "medium", "medium", "in_validation", B, "validator", None, []),
    ("rates-xva-proxy", "XVA sensitivity proxy", "pricing", "rates", "deep_learning", ["rates", "credit"],
     "900000000", 8, "high", "low", "validated_with_conditions", B, "validator2", None, []),
    ("credit-cds-basis", "CDS-bond basis signal", "alpha", "credit", "gradient_boosting", ["credit"],
     "90000000", 1, "high", "medium", "rejected", B, "validator", None, []),
    ("credit-default-prob", "Issuer default probability (vendor)", "risk", "credit", "logistic_regression",
     ["credit"], "400000000", 5, "medium", "medium", "production", B, "validator2", "Moody's Analytics", []),
    ("fx-carry-g10", "G10 FX carry timing", "alpha", "fx", "random_forest", ["fx"],
     "200000000", 1, "medium", "medium", "production", B, "validator", None, []),
    ("fx-fix-flow", "London 4pm fix flow predictor", "alpha", "fx", "gradient_boosting", ["fx"],
     "70000000", 0, "high", "low", "draft", B, None, None, []),
    ("commod-term-structure", "Commodity term-structure roll signal", "alpha", "commod", "linear_regression",
     ["commodities"], "110000000", 1, "low", "high", "pilot", B, "validator2", None, []),
    ("commod-weather-gas", "Weather-driven natural gas demand", "alpha", "commod", "deep_learning",
     ["commodities"], "45000000", 0, "high", "low", "submitted", B, "validator2", None, []),
    ("exec-vwap-eq", "Equity VWAP execution algorithm", "execution", "exec", "rule_based", ["equities"],
     "1000000000", 12, "medium", "high", "production", A, "validator2", None, ["exec-impact-model"]),
    ("exec-impact-model", "Market impact model", "execution", "exec", "gradient_boosting", ["equities", "fx"],
     "800000000", 6, "high", "medium", "production", A, "validator", None, ["risk-var-hs"]),
    ("exec-smart-router", "Smart order router venue ranking", "execution", "exec", "logistic_regression",
     ["equities"], "600000000", 3, "medium", "medium", "approved", A, "validator2", None, ["exec-impact-model"]),
    ("exec-fx-twap", "FX TWAP execution (vendor)", "execution", "exec", "rule_based", ["fx"],
     "350000000", 2, "low", "high", "production", B, "validator", "FlexTrade", []),
    ("risk-var-hs", "Historical-simulation VaR", "risk", "mkt-risk", "rule_based", ["multi_asset"],
     "2000000000", 15, "medium", "high", "production", AB, "validator2", None, []),
    ("risk-stress-ml", "ML stress-scenario generator", "risk", "mkt-risk", "deep_learning", ["multi_asset"],
     "1500000000", 4, "high", "low", "in_validation", AB, "validator", None, ["risk-var-hs", "eq-vol-regime"]),
]

# Which data sources each model's versions read: (training, inference) by data source name.
MODEL_DATA = {
    "eq-momentum-us": (["Refinitiv tick history"], ["Bloomberg B-PIPE equities"]),
    "eq-card-spend": (["Consumer card transaction panel"], ["Consumer card transaction panel"]),
    "eq-retail-traffic": (["Satellite parking-lot counts"], ["Satellite parking-lot counts"]),
    "eq-earnings-nlp": (["News sentiment feed"], ["News sentiment feed"]),
    "exec-vwap-eq": (["Internal OMS fills"], ["Bloomberg B-PIPE equities", "Internal OMS fills"]),
    "exec-impact-model": (["Internal OMS fills"], ["Bloomberg B-PIPE equities"]),
    "fx-carry-g10": (["FX ECN aggregated quotes"], ["FX ECN aggregated quotes"]),
    "rates-curve-pca": (["CME MDP 3.0 futures"], ["CME MDP 3.0 futures"]),
    "risk-var-hs": (["Firm positions and P&L"], ["Firm positions and P&L"]),
    "credit-default-prob": (["Credit curves (internal marks)"], ["Credit curves (internal marks)"]),
}
