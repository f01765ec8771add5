//! `tess`: Tessera's tools binary: the CQL shell, nodetool-style commands over a node's admin
//! API (`status`, `info`, `ring`, `describering`, `getendpoints`, `tablestats`, `netstats`,
//! `flush`, `compact`, `garbagecollect`, `cleanup`, `drain`, `repair`), the local-cluster
//! launcher (`cluster`) and offline SSTable checks. Stress joins as it is built.
//!
//! `repair` also takes nodetool's single-dash spellings (`-pr`, `-st`, `-et`, `-full`, `-dc`,
//! `-local`, `-prv`), rewritten to the long options before parsing.
//!
//! Exit status: 0 on success; 1 when the command ran and failed (a node unreachable, an error
//! from the admin API, a node that did not start, a corrupt SSTable); 2 for a usage error or an
//! SSTable tool that could not run.

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use tools::cluster::layout::{ClusterSpec, parse_node_index};

#[derive(Parser, Debug)]
#[command(name = "tess", version, about = "Tessera's tools")]
struct Args {
    /// Admin API address of the node that nodetool-style commands (status, ring, repair...) ask.
    #[arg(long = "host", id = "admin_host", default_value = "127.0.0.1", value_name = "ADDR")]
    admin_host: String,
    /// Admin API port of that node.
    #[arg(long = "port", id = "admin_port", default_value_t = 10000, value_name = "ADMIN_PORT")]
    admin_port: u16,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// An interactive CQL shell (like cqlsh): `tess shell [host] [port] [-e stmt | -f file]`.
    Shell {
        /// Node address.
        #[arg(default_value = "127.0.0.1")]
        host: String,
        /// Native protocol port.
        #[arg(default_value_t = 9042)]
        port: u16,
        /// Run these statements and exit (status 2 if one fails).
        #[arg(short, long)]
        execute: Option<String>,
        /// Run the statements in this file and exit (status 2 if one fails).
        #[arg(short, long, conflicts_with = "execute")]
        file: Option<PathBuf>,
        /// Keyspace to USE first.
        #[arg(short, long)]
        keyspace: Option<String>,
    },
    #[command(flatten)]
    Nodetool(NodetoolCommand),
    /// A local multi-node, multi-dc cluster for development, on 127.0.0.1, 127.0.0.2, ...
    Cluster {
        /// The cluster's directory (cluster.json and one node<i>/ per node).
        #[arg(long, global = true, default_value = "./cluster")]
        dir: PathBuf,
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Offline SSTable tools (no node needed; nothing on disk is changed).
    Sstable {
        #[command(subcommand)]
        command: SstableCommand,
    },
}

/// The nodetool-style commands, each asking one node's admin API.
#[derive(Subcommand, Debug)]
enum NodetoolCommand {
    /// The cluster as one node sees it, like `nodetool status`: state, load, tokens, ownership.
    Status {
        /// Show effective ownership for this keyspace's replication.
        keyspace: Option<String>,
    },
    /// The node itself, like `nodetool info`: host id, dc, rack, load, uptime, percent repaired.
    Info,
    /// Every token of the ring, per datacenter, like `nodetool ring`.
    Ring {
        /// Show effective ownership for this keyspace's replication.
        keyspace: Option<String>,
    },
    /// Each token range of a keyspace and its replicas, like `nodetool describering`.
    Describering { keyspace: String },
    /// The replicas of one partition, like `nodetool getendpoints`.
    Getendpoints {
        keyspace: String,
        table: String,
        /// The partition key; a composite key as `a:b`.
        #[arg(allow_hyphen_values = true)]
        key: String,
    },
    /// Per-table statistics, like `nodetool tablestats -H`.
    #[command(alias = "cfstats")]
    Tablestats {
        /// KEYSPACE or KEYSPACE.TABLE; every table when left out.
        #[arg(value_parser = tools::nodetool::tablestats::parse_selection, value_name = "KS[.TABLE]")]
        selection: Option<(String, Option<String>)>,
    },
    /// The node's network activity: hints, read repairs, repair sessions, messages.
    Netstats,
    /// Flushes memtables to SSTables.
    Flush(Tables),
    /// Compacts each table's SSTables into one (a major compaction).
    Compact(Tables),
    /// Rewrites each SSTable alone, dropping what is deleted or shadowed.
    Garbagecollect(Tables),
    /// Drops partitions this node no longer replicates (after the ring changed).
    Cleanup(Tables),
    /// Drains the node before a restart: every memtable flushed, nothing left to replay.
    Drain,
    /// Repairs the node's ranges with their other replicas, following the session to its end.
    Repair {
        /// Full repair: every row, not only unrepaired data.
        #[arg(long)]
        full: bool,
        /// Only compare: print how many ranges mismatch, stream nothing.
        #[arg(long)]
        preview: bool,
        /// Only the ranges this node is the primary replica for (run it on every node).
        #[arg(long = "partitioner-range")]
        primary_range: bool,
        /// Repair from this token (exclusive); needs --end-token.
        #[arg(long, allow_hyphen_values = true, value_name = "TOKEN")]
        start_token: Option<String>,
        /// Repair to this token (inclusive); needs --start-token.
        #[arg(long, allow_hyphen_values = true, value_name = "TOKEN")]
        end_token: Option<String>,
        /// Only repair with replicas in this datacenter.
        #[arg(long, alias = "in-dc", value_name = "DC")]
        dc: Option<String>,
        /// Only repair with replicas in this node's datacenter.
        #[arg(long, alias = "in-local-dc")]
        local: bool,
        /// The keyspace; every keyspace when left out.
        keyspace: Option<String>,
        /// Tables of the keyspace; all when left out.
        tables: Vec<String>,
    },
}

/// The tables a table operation concerns.
#[derive(clap::Args, Debug)]
struct Tables {
    /// The keyspace; every keyspace when left out.
    keyspace: Option<String>,
    /// Tables of the keyspace; all when left out.
    tables: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum SstableCommand {
    /// Reads every chunk and partition, checking every checksum.
    Verify {
        /// Table directories or SSTable component files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Prints each SSTable's statistics as JSON.
    Stats {
        /// Table directories or SSTable component files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ClusterCommand {
    /// Writes each node's node.yaml and starts the nodes, then waits until each answers CQL.
    Up {
        /// Number of nodes (node i runs on 127.0.0.i).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=254))]
        nodes: u32,
        /// Datacenters, dc1..dcD; nodes are dealt to them in turn.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        dcs: u32,
        /// Racks per datacenter; a dc's nodes are dealt to them in turn.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        racks: u32,
        /// Tokens per node (written to num_tokens and initial_token).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1536))]
        num_tokens: u32,
        /// The tessera binary (default: the one beside tess).
        #[arg(long)]
        bin: Option<PathBuf>,
        /// More configuration for every node, as KEY=VALUE (e.g. hinted_handoff_enabled=false);
        /// repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = tools::cluster::parse_setting)]
        settings: Vec<(String, String)>,
    },
    /// Each node's address, dc, rack, pid, and whether it runs.
    Status,
    /// Starts a stopped node again, with its configuration and data.
    Start {
        /// Node index (or node<i>).
        #[arg(value_parser = parse_node_index)]
        node: u32,
        /// The tessera binary (default: the one the cluster was started with).
        #[arg(long)]
        bin: Option<PathBuf>,
    },
    /// Stops one node, or all, with SIGTERM (the node drains first), waiting for it to exit.
    Stop {
        /// Node index (or node<i>); every node when left out.
        #[arg(value_parser = parse_node_index)]
        node: Option<u32>,
    },
    /// Kills a node with SIGKILL: no drain, as in a crash.
    Kill {
        /// Node index (or node<i>).
        #[arg(value_parser = parse_node_index)]
        node: u32,
    },
    /// Stops every node, then deletes the cluster directory.
    Down,
}

/// Runs a `tess cluster` subcommand, progress going to stdout.
fn cluster(dir: PathBuf, command: ClusterCommand) -> anyhow::Result<()> {
    let out = &mut std::io::stdout();
    match command {
        ClusterCommand::Up { nodes, dcs, racks, num_tokens, bin, settings } => {
            let spec = ClusterSpec { nodes, dcs, racks, num_tokens };
            tools::cluster::up(&tools::cluster::UpOptions { dir, spec, bin, settings }, out)
        }
        ClusterCommand::Status => tools::cluster::status(&dir, out),
        ClusterCommand::Start { node, bin } => tools::cluster::start(&dir, node, bin.as_deref(), out),
        ClusterCommand::Stop { node } => tools::cluster::stop(&dir, node, out),
        ClusterCommand::Kill { node } => tools::cluster::kill(&dir, node, out),
        ClusterCommand::Down => tools::cluster::down(&dir, out),
    }
}

/// nodetool's single-dash options of `repair`, and the long options clap knows them by.
const NODETOOL_REPAIR_FLAGS: [(&str, &str); 7] = [
    ("-pr", "--partitioner-range"),
    ("-st", "--start-token"),
    ("-et", "--end-token"),
    ("-full", "--full"),
    ("-dc", "--dc"),
    ("-local", "--local"),
    ("-prv", "--preview"),
];

/// The command line with `repair`'s nodetool spellings (`-pr`, `-st TOKEN`, ...) turned into
/// long options, which clap cannot take as they are (a short option is one letter).
fn nodetool_spellings(args: Vec<OsString>) -> Vec<OsString> {
    // Find the subcommand: the first word that is neither an option nor a global option's value.
    let mut i = 1;
    while let Some(a) = args.get(i) {
        match a.to_str() {
            Some("--host" | "--port") => i += 2,
            Some(s) if s.starts_with('-') => i += 1,
            _ => break,
        }
    }
    if args.get(i).and_then(|a| a.to_str()) != Some("repair") {
        return args;
    }
    let mut out: Vec<OsString> = args[..=i].to_vec();
    let mut rest = args[i + 1..].iter();
    for a in rest.by_ref() {
        if a == "--" {
            out.push(a.clone());
            break;
        }
        let long = NODETOOL_REPAIR_FLAGS.iter().find(|(short, _)| a == short).map(|(_, long)| *long);
        out.push(long.map_or_else(|| a.clone(), OsString::from));
    }
    out.extend(rest.cloned());
    out
}

/// How a nodetool-style command failed.
enum Failure {
    /// Bad options, refused before asking the node (exit status 2).
    Usage(String),
    /// The node could not be asked or answered an error (exit status 1).
    Failed(String),
}

/// Runs a nodetool-style command against `host:port`'s admin API, returning what to print.
fn nodetool(host: &str, port: u16, command: NodetoolCommand) -> Result<String, Failure> {
    use tools::nodetool::{self as nt, AdminClient, operations::TableOperation};
    let client = || AdminClient::new(host, port);
    // Operations the node runs before it answers may take long.
    let patient = || AdminClient::with_timeout(host, port, nt::OPERATION_TIMEOUT);
    let failed = |e: nt::AdminError| Failure::Failed(e.to_string());
    let operation = |op: TableOperation, t: Tables| {
        nt::table_operation(&patient(), op, t.keyspace.as_deref(), &t.tables).map_err(failed)
    };
    match command {
        NodetoolCommand::Status { keyspace } => nt::status(&client(), keyspace.as_deref()).map_err(failed),
        NodetoolCommand::Info => nt::info(&client()).map_err(failed),
        NodetoolCommand::Ring { keyspace } => nt::ring(&client(), keyspace.as_deref()).map_err(failed),
        NodetoolCommand::Describering { keyspace } => nt::describering(&client(), &keyspace).map_err(failed),
        NodetoolCommand::Getendpoints { keyspace, table, key } => {
            nt::getendpoints(&client(), &keyspace, &table, &key).map_err(failed)
        }
        NodetoolCommand::Tablestats { selection } => {
            nt::tablestats(&client(), selection.as_ref()).map_err(failed)
        }
        NodetoolCommand::Netstats => nt::netstats(&client()).map_err(failed),
        NodetoolCommand::Flush(t) => operation(TableOperation::Flush, t),
        NodetoolCommand::Compact(t) => operation(TableOperation::Compact, t),
        NodetoolCommand::Garbagecollect(t) => operation(TableOperation::GarbageCollect, t),
        NodetoolCommand::Cleanup(t) => operation(TableOperation::Cleanup, t),
        NodetoolCommand::Drain => nt::drain(&patient()).map_err(failed),
        NodetoolCommand::Repair {
            full,
            preview,
            primary_range,
            start_token,
            end_token,
            dc,
            local,
            keyspace,
            tables,
        } => {
            let args = nt::repair::RepairArgs {
                full,
                preview,
                primary_range,
                start_token,
                end_token,
                dc,
                local,
                keyspace,
                tables,
            };
            match args.validate() {
                Err(usage) => Err(Failure::Usage(usage)),
                Ok(request) => {
                    let follow = nt::repair::Follow::default();
                    nt::repair::run(&client(), &request, &mut std::io::stdout(), &follow)
                        .map(|_| String::new())
                        .map_err(|e| Failure::Failed(e.to_string()))
                }
            }
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse_from(nodetool_spellings(std::env::args_os().collect()));
    let result = match args.command {
        Command::Nodetool(command) => {
            return match nodetool(&args.admin_host, args.admin_port, command) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(Failure::Failed(e)) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
                Err(Failure::Usage(e)) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Cluster { dir, command } => {
            return match cluster(dir, command) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(1)
                }
            };
        }
        Command::Shell { host, port, execute, file, keyspace } => {
            let code = tools::shell::run(tools::shell::ShellOptions { host, port, execute, file, keyspace });
            return ExitCode::from(code as u8);
        }
        Command::Sstable { command: SstableCommand::Verify { paths } } => {
            tools::sstable::verify(&paths).map(|report| {
                let mut bad = 0;
                for v in &report {
                    match &v.outcome {
                        Ok(n) => println!("OK       {} ({n} partitions)", v.sstable.display()),
                        Err(e) => {
                            bad += 1;
                            println!("CORRUPT  {}: {e}", v.sstable.display());
                        }
                    }
                }
                println!("{} SSTables checked, {bad} corrupt", report.len());
                bad == 0
            })
        }
        Command::Sstable { command: SstableCommand::Stats { paths } } => {
            tools::sstable::stats(&paths).map(|s| {
                print!("{s}");
                true
            })
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(line: &str) -> Result<Args, clap::Error> {
        Args::try_parse_from(nodetool_spellings(line.split_whitespace().map(OsString::from).collect()))
    }

    /// The nodetool-style command of `line`.
    fn nodetool_command(line: &str) -> NodetoolCommand {
        match parse(line) {
            Ok(Args { command: Command::Nodetool(c), .. }) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    /// The repair options of `line`, checked.
    fn repair(line: &str) -> Result<tools::nodetool::repair::RepairRequest, String> {
        let NodetoolCommand::Repair {
            full,
            preview,
            primary_range,
            start_token,
            end_token,
            dc,
            local,
            keyspace,
            tables,
        } = nodetool_command(line)
        else {
            panic!("{line}: not repair")
        };
        tools::nodetool::repair::RepairArgs {
            full,
            preview,
            primary_range,
            start_token,
            end_token,
            dc,
            local,
            keyspace,
            tables,
        }
        .validate()
    }

    #[test]
    fn the_cli_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn status_takes_the_admin_address_before_the_command() {
        let a = parse("tess status").unwrap();
        assert_eq!((a.admin_host.as_str(), a.admin_port), ("127.0.0.1", 10000));
        assert!(matches!(a.command, Command::Nodetool(NodetoolCommand::Status { keyspace: None })));
        let a = parse("tess --host 127.0.0.2 --port 10001 status ks").unwrap();
        assert_eq!((a.admin_host.as_str(), a.admin_port), ("127.0.0.2", 10001));
        assert!(
            matches!(a.command, Command::Nodetool(NodetoolCommand::Status { keyspace: Some(k) }) if k == "ks")
        );
        assert!(parse("tess --port 99999 status").is_err());
        // The shell keeps its own positional host and port.
        let a = parse("tess shell 127.0.0.3 9043").unwrap();
        assert!(matches!(a.command, Command::Shell { host, port: 9043, .. } if host == "127.0.0.3"));
    }

    #[test]
    fn nodetool_commands_take_their_arguments() {
        assert!(matches!(nodetool_command("tess info"), NodetoolCommand::Info));
        assert!(matches!(nodetool_command("tess netstats"), NodetoolCommand::Netstats));
        assert!(matches!(nodetool_command("tess drain"), NodetoolCommand::Drain));
        assert!(matches!(nodetool_command("tess ring"), NodetoolCommand::Ring { keyspace: None }));
        assert!(
            matches!(nodetool_command("tess ring ks"), NodetoolCommand::Ring { keyspace: Some(k) } if k == "ks")
        );
        assert!(
            matches!(nodetool_command("tess describering ks"), NodetoolCommand::Describering { keyspace } if keyspace == "ks")
        );
        assert!(matches!(
            nodetool_command("tess getendpoints ks t -5:x"),
            NodetoolCommand::Getendpoints { keyspace, table, key } if keyspace == "ks" && table == "t" && key == "-5:x"
        ));
        assert!(matches!(
            nodetool_command("tess --port 10002 tablestats ks.t"),
            NodetoolCommand::Tablestats { selection: Some((ks, Some(t))) } if ks == "ks" && t == "t"
        ));
        assert!(matches!(nodetool_command("tess cfstats"), NodetoolCommand::Tablestats { selection: None }));
        assert!(
            matches!(nodetool_command("tess flush"), NodetoolCommand::Flush(Tables { keyspace: None, tables }) if tables.is_empty())
        );
        assert!(matches!(
            nodetool_command("tess compact ks t1 t2"),
            NodetoolCommand::Compact(Tables { keyspace: Some(ks), tables }) if ks == "ks" && tables == ["t1", "t2"]
        ));
        assert!(matches!(
            nodetool_command("tess garbagecollect ks"),
            NodetoolCommand::Garbagecollect(Tables { keyspace: Some(_), .. })
        ));
        assert!(matches!(nodetool_command("tess cleanup"), NodetoolCommand::Cleanup(_)));
        for bad in [
            "tess describering",
            "tess getendpoints ks t",
            "tess tablestats ks.",
            "tess tablestats .t",
            "tess tablestats a b",
            "tess info extra",
            "tess drain ks",
            "tess repair --frob",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn repair_takes_long_and_nodetool_options() {
        let r = repair("tess repair").unwrap();
        assert_eq!((r.keyspace, r.tables.len(), r.full, r.preview, r.local), (None, 0, false, false, false));
        let r = repair("tess repair --full --preview --partitioner-range --local ks t1 t2").unwrap();
        assert!(r.full && r.preview && r.primary_range && r.local);
        assert_eq!((r.keyspace.as_deref(), r.tables), (Some("ks"), vec!["t1".to_string(), "t2".to_string()]));
        let r =
            repair("tess --host 127.0.0.2 repair -full -st -9223372036854775808 -et -5 -dc dc2 ks").unwrap();
        assert!(r.full);
        assert_eq!(
            (r.start_token.as_deref(), r.end_token.as_deref(), r.dc.as_deref()),
            (Some("-9223372036854775808"), Some("-5"), Some("dc2"))
        );
        let r = repair("tess repair -pr -local -prv ks").unwrap();
        assert!(r.primary_range && r.local && r.preview);
        let r = repair("tess repair --start-token 1 --end-token 2 --in-dc dc1").unwrap();
        assert_eq!((r.start_token.as_deref(), r.dc.as_deref()), (Some("1"), Some("dc1")));
        assert!(repair("tess repair --in-local-dc").unwrap().local);
        for (bad, why) in [
            ("tess repair -st 5 ks", "together"),
            ("tess repair -et 5", "together"),
            ("tess repair -st x -et 5", "not a token"),
            ("tess repair -st 1 -et 18446744073709551615", "not a token"),
            ("tess repair -dc dc1 -local", "--dc and --local"),
            ("tess repair -pr -st 1 -et 2", "-st/-et"),
            ("tess repair -pr -dc dc1", "--dc"),
        ] {
            let e = repair(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn only_repair_options_are_rewritten() {
        let words = |line: &str| -> Vec<String> {
            nodetool_spellings(line.split_whitespace().map(OsString::from).collect())
                .into_iter()
                .map(|w| w.into_string().unwrap())
                .collect()
        };
        assert_eq!(
            words("tess --host repair --port 1 repair -pr -st -1 -et 2 -- -dc"),
            [
                "tess",
                "--host",
                "repair",
                "--port",
                "1",
                "repair",
                "--partitioner-range",
                "--start-token",
                "-1",
                "--end-token",
                "2",
                "--",
                "-dc"
            ]
        );
        assert_eq!(words("tess status -pr"), ["tess", "status", "-pr"]);
        assert_eq!(words("tess shell -e repair"), ["tess", "shell", "-e", "repair"]);
    }

    #[test]
    fn cluster_up_has_defaults_and_bounds() {
        let a = parse("tess cluster up --nodes 3").unwrap();
        let Command::Cluster {
            dir,
            command: ClusterCommand::Up { nodes, dcs, racks, num_tokens, bin, settings },
        } = a.command
        else {
            panic!("not cluster up")
        };
        assert_eq!(
            (dir, nodes, dcs, racks, num_tokens, bin, settings),
            (PathBuf::from("./cluster"), 3, 1, 1, 16, None, vec![])
        );
        let a =
            parse("tess cluster up --nodes 3 --set hinted_handoff_enabled=false --set commitlog_sync=batch")
                .unwrap();
        let Command::Cluster { command: ClusterCommand::Up { settings, .. }, .. } = a.command else {
            panic!("not cluster up")
        };
        assert_eq!(
            settings,
            [
                ("hinted_handoff_enabled".to_string(), "false".to_string()),
                ("commitlog_sync".to_string(), "batch".to_string())
            ]
        );
        for bad in [
            "tess cluster up",
            "tess cluster up --nodes 0",
            "tess cluster up --nodes 255",
            "tess cluster up --nodes 3 --dcs 0",
            "tess cluster up --nodes 3 --racks 0",
            "tess cluster up --nodes 3 --num-tokens 0",
            "tess cluster up --nodes 3 --num-tokens 2000",
            "tess cluster up --nodes x",
            "tess cluster up --nodes 3 --set dc=dc9",
            "tess cluster up --nodes 3 --set hinted_handoff_enabled",
            "tess cluster up --nodes 3 --set Bad-Key=1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cluster_node_commands_take_an_index_or_name_and_dir_anywhere() {
        let a = parse("tess cluster kill node2 --dir /tmp/c").unwrap();
        assert!(matches!(a.command, Command::Cluster { dir, command: ClusterCommand::Kill { node: 2 } }
            if dir.as_path() == std::path::Path::new("/tmp/c")));
        let a = parse("tess cluster --dir /tmp/c start 3").unwrap();
        assert!(matches!(a.command, Command::Cluster { command: ClusterCommand::Start { node: 3, .. }, .. }));
        assert!(matches!(
            parse("tess cluster stop").unwrap().command,
            Command::Cluster { command: ClusterCommand::Stop { node: None }, .. }
        ));
        assert!(matches!(
            parse("tess cluster stop 1").unwrap().command,
            Command::Cluster { command: ClusterCommand::Stop { node: Some(1) }, .. }
        ));
        for bad in
            ["tess cluster kill", "tess cluster kill 0", "tess cluster start nodeX", "tess cluster frob"]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
