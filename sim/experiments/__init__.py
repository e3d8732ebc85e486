"""Many runs of the model: experimental designs, sweeps streamed to disk and resumable, the executors that run
them (serial, local processes, Dask), and sensitivity analysis of a finished sweep."""
