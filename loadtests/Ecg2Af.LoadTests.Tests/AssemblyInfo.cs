// The end-to-end tests start real gateway and worker processes; one at a time keeps a 2-core machine usable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
