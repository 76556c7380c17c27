"""Emergency decisions: China AQI (HJ 633) and heavy-pollution alert levels (2018 scheme).

``from ecodss.emergency import aqi`` gives the :func:`ecodss.emergency.aqi.aqi` *function* (it
shadows the submodule name as an attribute); import the module itself with
``importlib.import_module("ecodss.emergency.aqi")`` or ``from ecodss.emergency.aqi import ...``.
"""

from .alerts import AlertDecision, AlertRules, alert_level, load_rules
from .aqi import aqi, category, city_aqi, daily_aqi, iaqi, standard_for_date
from .plan import EmergencyPlan, plan

__all__ = ["aqi", "iaqi", "category", "city_aqi", "daily_aqi", "standard_for_date",
           "alert_level", "AlertDecision", "AlertRules", "load_rules", "plan", "EmergencyPlan"]
