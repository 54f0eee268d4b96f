// Each class starts a host of its own; one at a time on a shared 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
