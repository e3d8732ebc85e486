"""The Mesa model: members' interests as utilities, the member agents, the summit's decisions year by year,
the runner that advances replicates in batches, and the tables a run's records make."""
