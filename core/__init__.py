"""Pure maths over numpy/pandas: forecasting, inventory policies, health rules, KPIs. No I/O."""
