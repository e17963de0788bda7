"""dataplane sweep: parameter sweeps over topologies, run on Dask distributed."""
