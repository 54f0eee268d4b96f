// Each end-to-end test starts a kernel, xenstored and netback: one at a time, so they do not starve each other on a small host.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
