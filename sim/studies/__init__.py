"""Questions asked of the model: why members take their stances (explain), whether it reproduces the SCO's
history (validation), and how its decision engine does on real decisions (backtest)."""
