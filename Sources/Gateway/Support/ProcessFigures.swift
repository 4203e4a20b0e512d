import CLinux
import Foundation

/// The standard process metrics (`process_*`, as Prometheus client libraries export them), read
/// at scrape time from the kernel: CPU from getrusage, memory from /proc/self/statm, descriptors
/// from /proc/self/fd and RLIMIT_NOFILE. Off the reactor (the metrics route runs in the background).
struct ProcessFigures {
    var cpuSeconds: Double
    var residentBytes: Double
    var virtualBytes: Double
    var openFDs: Double
    var maxFDs: Double
    var startTimeSeconds: Double

    /// Wall-clock seconds when the process started, from the monotonic start it records.
    static func now(startedAtMs: Int64) -> ProcessFigures {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        var virtualBytes = 0.0
        var residentBytes = Double(dfl_rss_bytes())
        if let data = FileManager.default.contents(atPath: "/proc/self/statm") {
            let fields = String(decoding: data, as: UTF8.self).split(separator: " ")
            if fields.count >= 2, let size = Double(fields[0]), let rss = Double(fields[1]) {
                virtualBytes = size * page
                residentBytes = rss * page
            }
        }
        // Listing the folder opens one descriptor of its own, not counted.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count).map { max(0, $0 - 1) } ?? 0
        var limit = rlimit()
        let maxFDs = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : 0
        let wallNow = Date().timeIntervalSince1970
        let started = wallNow - Double(dfl_monotonic_ms() - startedAtMs) / 1000
        return ProcessFigures(cpuSeconds: cpu, residentBytes: residentBytes, virtualBytes: virtualBytes,
                              openFDs: Double(open), maxFDs: maxFDs, startTimeSeconds: (started * 1000).rounded() / 1000)
    }
}
