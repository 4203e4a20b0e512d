import ArgumentParser
import Gateway

@main
struct Dongfeng: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dongfeng",
        abstract: "Dongfeng (东风破): a real-time trading-signal gateway over HTTPS and secure WebSocket.",
        discussion: """
            With no subcommand, `dongfeng` runs `serve`: https://127.0.0.1:8443 with a generated \
            development certificate and the built-in market simulator.
            Precedence of settings: command-line flag > DFP_* environment variable > config file > default.
            Every config key is listed in docs/CONFIG.md.
            """,
        version: DongfengVersion.current,
        subcommands: [Serve.self, Replay.self, BacktestCommand.self, SweepCommand.self, GenCert.self, Health.self, Watch.self, Trigger.self, Top.self],
        defaultSubcommand: Serve.self
    )
}
