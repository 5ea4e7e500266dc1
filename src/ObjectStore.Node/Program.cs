using System.CommandLine;
using ObjectStore.Node;

// `cmd` passes its words on as they are (switches like `-d 3` belong to the node's palettes).
if (args.Length > 0 && args[0] == "cmd") return await CmdCli.RunAsync(args[1..]);
// A node (or a local cluster) first takes its runtime knobs, which only the environment can give (NodeRuntimeKnobs).
if (args.Length > 0 && args[0] is "node" or "local") NodeRuntimeKnobs.ReexecuteWithNodeKnobs();

var data = new Option<string?>("--data") { Description = "data directory (chunks, index); default: objectstore.data-dir, ./data" };
var host = new Option<string?>("--host") { Description = "address to bind and advertise; default 127.0.0.1" };
var port = new Option<int?>("--port") { Description = "TCP port; 0 picks a free one; default from akka.hocon (4053). With local: node i gets PORT+i-1, default free ports" };
var factor = new Option<int?>("--factor")
{
    Description = "copies of every object (replication.factor, default 3); the write quorum becomes a majority of them. A single node is --factor 1",
};
var config = new Option<string?>("--config") { Description = "extra HOCON file that overrides akka.hocon (see config/)" };
var nodeAddress = new Option<string>("--node") { Description = "HOST:PORT of the node to talk to", DefaultValueFactory = _ => "127.0.0.1:4053" };
var seeds = new Option<string[]>("--seed") { Description = "HOST:PORT of a node of the cluster to join (repeatable); none: start a new cluster", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false, DefaultValueFactory = _ => [] };
var script = new Option<string?>("-c") { Description = "run these ';'-separated commands and exit (non-zero on the first error)" };

var cmdPort = new Option<int?>("--cmd-port") { Description = "the command host's port for `objectstore cmd` (objectstore.cmd.port, default 9110; 0: none). With local: node i gets CMD-PORT+i-1, default the first free ports from 9110" };
var metricsPort = new Option<int?>("--metrics-port") { Description = "serve /metrics (Prometheus), /alive and /ready on this port of --host (objectstore.metrics.port; default 0: off)" };
var gateway = new Option<bool>("--gateway") { Description = "join without the storage role: the node owns and holds no data; shells use it, and it reads and writes through the storage nodes" };
var node = new Command("node", "run a storage node without a shell (Ctrl+C stops it cleanly)") { data, host, port, factor, seeds, config, cmdPort, metricsPort, gateway };
node.SetAction((result, cancel) => Commands.RunNodeAsync(result.GetValue(data), result.GetValue(host), result.GetValue(port), result.GetValue(factor),
    result.GetValue(seeds) ?? [], result.GetValue(config), result.GetValue(cmdPort), result.GetValue(metricsPort), result.GetValue(gateway), cancel));

var shell = new Command("shell", "open the console shell against a running node") { nodeAddress, script, config };
shell.SetAction((result, _) => Commands.RunShellAsync(result.GetValue(nodeAddress)!, result.GetValue(script), result.GetValue(config)));

var nodes = new Option<int>("--nodes") { Description = "how many nodes to run (a seed and members, data in DATA/n1..nN)", DefaultValueFactory = _ => 3 };
var local = new Command("local", "start a local cluster in this process (3 nodes, data in ./data/n1..n3) and open the shell on its first node")
    { data, port, nodes, factor, config, script, cmdPort };
local.SetAction((result, _) => Commands.RunLocalAsync(result.GetValue(data), result.GetValue(port), result.GetValue(nodes), result.GetValue(factor),
    result.GetValue(config), result.GetValue(script), result.GetValue(cmdPort)));

// Listed for --help only: `cmd` is handled above, before parsing.
var cmd = new Command("cmd", "observe and steer a running node (palettes: cluster, actor, log, node, store, replication): objectstore cmd [HOST:PORT] [--json] [PALETTE COMMAND [ARGS]]");
var root = new RootCommand("objectstore — a replicated object store on Akka.NET") { node, shell, local, cmd };
return await root.Parse(args).InvokeAsync();
