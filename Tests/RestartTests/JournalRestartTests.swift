import Foundation
import TestSupport
import XCTest

/// The journal through the server: a restart on the same data directory keeps every sequenced
/// event (REST and the WebSocket resume history) and continues the seq without reusing one.
final class JournalRestartTests: XCTestCase {
    private func post(_ server: TestServer, _ body: String) throws -> TestResponse {
        try server.request("POST /api/v1/ticks HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    /// Waits until the pipeline has taken `ticks` ticks and its seq is steady; returns the seq.
    private func settle(_ server: TestServer, ticks: Int) throws -> Int {
        var last = -1
        for _ in 0..<300 {
            let pipeline = try XCTUnwrap(server.get("/admin/health").json?["pipeline"] as? [String: Any])
            let seq = pipeline["last_seq"] as? Int ?? 0
            if (pipeline["ticks"] as? Int ?? 0) >= ticks && seq == last { return seq }
            last = seq
            usleep(30_000)
        }
        XCTFail("the pipeline did not settle")
        return last
    }

    /// Every event of a list, paged forward with since_seq.
    /// Waits until no bar has closed for 1.5 s (the open bars of the last ticks closed by the clock).
    private func quiet(_ server: TestServer) throws {
        var last = -1
        var since = Date()
        for _ in 0..<200 {
            let bars = try XCTUnwrap(server.get("/admin/health").json?["pipeline"] as? [String: Any])["bars"] as? Int ?? 0
            if bars != last { last = bars; since = Date() }
            if Date().timeIntervalSince(since) >= 1.5 { return }
            usleep(100_000)
        }
        XCTFail("bars kept closing")
    }

    private func events(_ server: TestServer, _ path: String, after start: Int = 0) throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        var since = start
        while true {
            let page = try XCTUnwrap(server.get("\(path)\(path.contains("?") ? "&" : "?")since_seq=\(since)&limit=1000").json)
            let items = try XCTUnwrap(page["items"] as? [[String: Any]])
            all += items
            let next = page["next_since_seq"] as? Int ?? since
            if items.isEmpty || next == since { return all }
            since = next
        }
    }

    func testRestartKeepsEventsAndContinuesTheSeq() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try TestServer { $0.dataDir = data; $0.journal.fsync = "always" }
        XCTAssertEqual((try first.get("/admin/health").json?["pipeline"] as? [String: Any])?["start"] as? String, "cold")
        XCTAssertEqual(try post(first, TestTicks.ndjson(count: 3000)).status, 202)
        let seqBefore = try settle(first, ticks: 3000)
        XCTAssertGreaterThan(seqBefore, 0, "the ticks made sequenced events")
        // The last bars close on the wall clock after the grace period, and each close can score
        // a signal: read once no bar has closed for a while.
        try quiet(first)
        let opportunities = try events(first, "/api/v1/opportunities")
        let signals = try events(first, "/api/v1/signals")
        let alerts = try events(first, "/api/v1/alerts")
        let scores = try XCTUnwrap(first.get("/api/v1/strategies").json?["items"] as? [[String: Any]]).map { $0["live_score"] as? NSDictionary }
        XCTAssertTrue(scores.contains { ($0?["scored"] as? Int ?? 0) > 0 }, "signals were scored live")
        XCTAssertTrue(signals.contains { (($0["outcome"] as? [[String: Any]])?.first?["return"] as? Double) != nil },
                      "signals carry their outcome")
        first.stop()

        let second = try TestServer { $0.dataDir = data }
        defer { second.stop() }
        // The open bars stay open in the checkpoint: nothing is added at the stop.
        let restored = try XCTUnwrap((second.get("/admin/health").json?["journal"] as? [String: Any])?["last_seq"] as? Int)
        XCTAssertGreaterThanOrEqual(restored, seqBefore)
        XCTAssertLessThan(restored, seqBefore + 50)
        // Warm start: the engine comes back from the shutdown checkpoint, no new warm-up.
        let pipeline = try XCTUnwrap(second.get("/admin/health").json?["pipeline"] as? [String: Any])
        XCTAssertEqual(pipeline["start"] as? String, "warm", "\(pipeline)")
        let features = try XCTUnwrap(second.get("/api/v1/symbols/600519.SH/features?limit=1").json?["items"] as? [[String: Any]])
        XCTAssertNotNil(features.last?["ema_50"] as? Double, "ema_50 is ready right after the restart")
        // Live scorecards come back as they were (signals' outcomes are compared with the signals).
        let scoresAfter = try XCTUnwrap(second.get("/api/v1/strategies").json?["items"] as? [[String: Any]]).map { $0["live_score"] as? NSDictionary }
        XCTAssertEqual(scoresAfter, scores)
        // Every event is back, field for field, with its seq.
        for (path, before) in [("/api/v1/opportunities", opportunities), ("/api/v1/signals", signals), ("/api/v1/alerts", alerts)] {
            let after = try events(second, path)
            XCTAssertEqual(NSArray(array: Array(after.prefix(before.count))), NSArray(array: before), path)
            XCTAssertTrue(after.dropFirst(before.count).allSatisfy { ($0["seq"] as? Int ?? 0) > seqBefore }, path)
        }
        // A WebSocket client resuming from the middle gets the journaled events in order.
        let resumeFrom = seqBefore / 2
        let ws = try TestWebSocket(port: second.port, path: "/ws?channels=opportunities,signals,risk_alerts&since_seq=\(resumeFrom)")
        XCTAssertEqual(try ws.nextJSON()["seq"] as? Int, restored, "hello carries the restored seq")
        _ = try ws.nextJSON()  // subscribed
        var expected: [Int] = []
        for path in ["/api/v1/opportunities", "/api/v1/signals", "/api/v1/alerts"] {
            expected += try events(second, path, after: resumeFrom).compactMap { $0["seq"] as? Int }
        }
        expected.sort()
        var replayed: [Int] = []
        while replayed.count < expected.count, let seq = try ws.nextJSON()["seq"] as? Int { replayed.append(seq) }
        XCTAssertEqual(replayed, expected)
        XCTAssertEqual(expected.last, restored)
        // New events continue after the old seq, never reusing one.
        XCTAssertEqual(try post(second, TestTicks.ndjson(count: 3000, start: 3000)).status, 202)
        let seqAfter = try settle(second, ticks: 3000)
        XCTAssertGreaterThan(seqAfter, restored)
        let newSeqs = try events(second, "/api/v1/signals", after: restored).compactMap { $0["seq"] as? Int }
        XCTAssertFalse(newSeqs.isEmpty, "new signals after the restart")
        let allSeqs = try events(second, "/api/v1/signals").compactMap { $0["seq"] as? Int }
        XCTAssertEqual(Set(allSeqs).count, allSeqs.count, "no seq is used twice")
    }

    /// A resume older than memory (here 100 events of each kind) reads the journal, then joins
    /// the in-memory history and the live stream: every seq from the start, once, in order.
    func testResumeOlderThanMemoryReadsTheJournal() throws {
        let server = try TestServer { $0.pipeline.historyEvents = 100 }
        defer { server.stop() }
        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 3000)).status, 202)
        let last = try settle(server, ticks: 3000)
        XCTAssertGreaterThan(last, 600, "far more events than memory keeps")
        let ws = try TestWebSocket(port: server.port, path: "/ws?channels=opportunities,signals,risk_alerts&since_seq=0")
        _ = try ws.nextJSON()  // hello
        _ = try ws.nextJSON()  // subscribed
        var seqs: [Int] = []
        while seqs.count < last, let seq = try ws.nextJSON()["seq"] as? Int { seqs.append(seq) }
        XCTAssertEqual(seqs, Array(1...last))
        // Live events keep coming after the replay, without a gap.
        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 1000, start: 3000)).status, 202)
        let newLast = try settle(server, ticks: 4000)
        while seqs.count < newLast, let seq = try ws.nextJSON()["seq"] as? Int { seqs.append(seq) }
        XCTAssertEqual(seqs, Array(1...newLast))
    }

    /// Without the journal the same resume says plainly that memory does not reach back.
    func testResumeOlderThanMemoryWithoutAJournalSaysSo() throws {
        let server = try TestServer { $0.pipeline.historyEvents = 100; $0.journal.enabled = false }
        defer { server.stop() }
        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 3000)).status, 202)
        _ = try settle(server, ticks: 3000)
        let ws = try TestWebSocket(port: server.port, path: "/ws?channels=signals&since_seq=0")
        _ = try ws.nextJSON()  // hello
        _ = try ws.nextJSON()  // subscribed
        let error = try ws.nextJSON()
        XCTAssertEqual(error["code"] as? String, "history_gap")
        XCTAssertTrue((error["message"] as? String ?? "").contains("oldest complete seq"), "\(error)")
    }

    /// REST paging older than memory reads the journal too (off the reactor), in order, and a
    /// request pipelined behind such a page is answered after it.
    func testRESTPagingOlderThanMemoryReadsTheJournal() throws {
        let server = try TestServer { $0.pipeline.historyEvents = 100 }
        defer { server.stop() }
        XCTAssertEqual(try post(server, TestTicks.ndjson(count: 3000)).status, 202)
        _ = try settle(server, ticks: 3000)
        usleep(700_000)  // the last bars close by the wall clock (grace), with their signals
        _ = try settle(server, ticks: 3000)
        let total = try XCTUnwrap((server.get("/admin/health").json?["pipeline"] as? [String: Any])?["signals"] as? Int)
        XCTAssertGreaterThan(total, 300, "far more signals than memory keeps")
        let signals = try events(server, "/api/v1/signals")
        let seqs = signals.compactMap { $0["seq"] as? Int }
        XCTAssertEqual(seqs.count, total, "every signal, from the journal and then from memory")
        XCTAssertEqual(seqs, seqs.sorted())
        XCTAssertEqual(Set(seqs).count, seqs.count)
        // Filters apply to journal pages as to memory.
        let one = try events(server, "/api/v1/signals?symbol=600519.SH")
        XCTAssertEqual(one.compactMap { $0["seq"] as? Int }, signals.filter { $0["symbol"] as? String == "600519.SH" }.compactMap { $0["seq"] as? Int })
        XCTAssertFalse(one.isEmpty)
        let client = try TestClient(port: server.port)
        try client.send("GET /api/v1/signals?since_seq=0&limit=5 HTTP/1.1\r\nHost: a\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        let page = try client.readResponse()
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual((page.json?["items"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int }, Array(seqs.prefix(5)))
        let health = try client.readResponse()
        XCTAssertEqual(health.json?["status"] as? String, "ok", "the pipelined request is answered after the deferred one")
    }

    /// A restart keeps the strategies as they were running (a live PUT included), since the
    /// inputs after the checkpoint ran under them; an edited strategies file applies at the next start.
    func testLiveStrategyChangesSurviveARestartAndAnEditedFileApplies() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-strategies-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = (folder as NSString).appendingPathComponent("strategies.json")
        try Data(#"{"strategies":{"macd_cross":{"enabled":true}}}"#.utf8).write(to: URL(fileURLWithPath: file))
        let data = (folder as NSString).appendingPathComponent("data")
        func enabled(_ server: TestServer, _ name: String) throws -> Bool? {
            let items = try XCTUnwrap(server.get("/api/v1/strategies").json?["items"] as? [[String: Any]])
            return items.first { $0["name"] as? String == name }?["enabled"] as? Bool
        }
        let first = try TestServer { $0.dataDir = data; $0.pipeline.strategiesFile = file }
        let body = #"{"enabled":false}"#
        XCTAssertEqual(try first.request("PUT /api/v1/strategies/macd_cross HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)").status, 200)
        XCTAssertEqual(try post(first, TestTicks.ndjson(count: 200)).status, 202)
        first.stop()
        let second = try TestServer { $0.dataDir = data; $0.pipeline.strategiesFile = file }
        XCTAssertEqual(try enabled(second, "macd_cross"), false, "the live change is kept across the restart")
        second.stop()
        try Data(#"{"strategies":{"macd_cross":{"enabled":true},"volume_spike":{"enabled":false}}}"#.utf8).write(to: URL(fileURLWithPath: file))
        let third = try TestServer { $0.dataDir = data; $0.pipeline.strategiesFile = file }
        defer { third.stop() }
        XCTAssertEqual(try enabled(third, "macd_cross"), true, "the edited file applies")
        XCTAssertEqual(try enabled(third, "volume_spike"), false)
    }

    /// Without a checkpoint (deleted, or unreadable), the journaled inputs warm the indicators;
    /// without those either, the start is cold and says why.
    func testJournaledInputsWarmIndicatorsWhenThereIsNoCheckpoint() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-inputs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let checkpoint = (data as NSString).appendingPathComponent("checkpoint.dfc")
        let first = try TestServer { $0.dataDir = data }
        XCTAssertEqual(try post(first, TestTicks.ndjson(count: 3000)).status, 202)
        _ = try settle(first, ticks: 3000)
        first.stop()
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint), "a clean stop writes the checkpoint")
        try FileManager.default.removeItem(atPath: checkpoint)
        let second = try TestServer { $0.dataDir = data }
        let pipeline = try XCTUnwrap(second.get("/admin/health").json?["pipeline"] as? [String: Any])
        XCTAssertEqual(pipeline["start"] as? String, "warm")
        XCTAssertTrue((pipeline["start_reason"] as? String ?? "").contains("journaled inputs warmed the indicators"), "\(pipeline)")
        // The warm-up says nothing and takes no seq: the sequence goes on from the journal's last.
        let journaled = try XCTUnwrap((second.get("/admin/health").json?["journal"] as? [String: Any])?["last_seq"] as? Int)
        XCTAssertEqual(pipeline["last_seq"] as? Int, journaled)
        let features = try XCTUnwrap(second.get("/api/v1/symbols/600519.SH/features?limit=1").json?["items"] as? [[String: Any]])
        XCTAssertNotNil(features.last?["ema_50"] as? Double)
        second.stop()
        try FileManager.default.removeItem(atPath: checkpoint)
        let third = try TestServer { $0.dataDir = data; $0.journal.inputs = false }
        defer { third.stop() }
        let cold = try XCTUnwrap(third.get("/admin/health").json?["pipeline"] as? [String: Any])
        XCTAssertEqual(cold["start"] as? String, "cold", "no checkpoint, and journal.inputs off")
        XCTAssertTrue((cold["start_reason"] as? String ?? "").contains("no checkpoint"), "\(cold)")
    }
}
