using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(ObjectStore.Benchmarks.ChunkingBenchmarks).Assembly).Run(args);
