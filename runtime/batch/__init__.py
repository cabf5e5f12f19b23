"""Running a Plan over a folder: inputs, worker processes (local or Dask), the journal, release, the output folder and keys."""
