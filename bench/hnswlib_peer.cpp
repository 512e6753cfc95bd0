// hnswlib_peer.cpp: the same protocol as hnswlib_peer.py, compiled from
// Debian's libhnswlib-dev headers with -O3 -march=native, so hnswlib's
// distance kernels use the AVX/AVX-512 paths that the Debian Python module
// (built for baseline x86-64, SSE only) does not. annbench compiles it:
//   g++ -O3 -march=native -std=c++17 -pthread -o OUT bench/hnswlib_peer.cpp
#include <hnswlib/hnswlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ctime>
#include <map>
#include <sys/resource.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

static std::vector<float> readF32(const std::string &path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) { fprintf(stderr, "cannot open %s\n", path.c_str()); exit(2); }
    size_t bytes = in.tellg();
    in.seekg(0);
    std::vector<float> v(bytes / 4);
    in.read(reinterpret_cast<char *>(v.data()), v.size() * 4);
    return v;
}

static long rssBytes() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) * 1024;
    return 0;
}

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static double threadCPU() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double processCPU() {
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static const size_t kChunk = 100;  // queries per timed chunk, as annbench

static const char *simd() {
#if defined(USE_AVX512)
    return "AVX-512";
#elif defined(USE_AVX)
    return "AVX";
#elif defined(USE_SSE)
    return "SSE";
#else
    return "scalar";
#endif
}

int main(int argc, char **argv) {
    std::map<std::string, std::string> a;
    for (int i = 1; i + 1 < argc; i += 2) a[std::string(argv[i]).substr(2)] = argv[i + 1];
    auto get = [&](const char *k, const char *def) { return a.count(k) ? a[k] : std::string(def); };
    size_t dim = std::stoul(get("dim", "0"));
    std::string space = get("space", "l2");
    size_t M = std::stoul(get("m", "16")), efc = std::stoul(get("efc", "100"));
    int threads = std::stoi(get("threads", "1")), runs = std::max(1, std::stoi(get("runs", "3")));
    size_t k = std::stoul(get("k", "10")), seed = std::stoul(get("seed", "100"));
    std::vector<float> base = readF32(get("base", "")), qs = readF32(get("queries", ""));
    if (dim == 0 || base.size() % dim || qs.size() % dim) { fprintf(stderr, "bad --dim\n"); return 2; }
    size_t n = base.size() / dim, nq = qs.size() / dim;

    hnswlib::SpaceInterface<float> *sp;
    if (space == "l2") sp = new hnswlib::L2Space(dim);
    else sp = new hnswlib::InnerProductSpace(dim);  // ip; annbench normalises for cosine

    long rss0 = rssBytes();
    // --index-cache (experiments, annbench -rounds): load the index when the
    // file exists (build time then reads 0), else build it and save it there.
    std::string cache = get("index-cache", "");
    hnswlib::HierarchicalNSW<float> *index;
    double buildSec = 0, buildCPU = 0;
    if (!cache.empty() && std::ifstream(cache).good()) {
        index = new hnswlib::HierarchicalNSW<float>(sp, cache, false, n);
        fprintf(stderr, "hnswlib-native: index loaded from %s\n", cache.c_str());
    } else {
        index = new hnswlib::HierarchicalNSW<float>(sp, n, M, efc, seed);
        double c0 = processCPU(), t0 = now();
        std::atomic<size_t> next{0};
        std::vector<std::thread> ws;
        for (int t = 0; t < threads; t++)
            ws.emplace_back([&] {
                for (size_t i; (i = next.fetch_add(1)) < n;) index->addPoint(&base[i * dim], i);
            });
        for (auto &w : ws) w.join();
        buildSec = now() - t0, buildCPU = processCPU() - c0;
        fprintf(stderr, "hnswlib-native: built %zu x %zu in %.1fs (%.1f CPU-s)\n", n, dim, buildSec, buildCPU);
        if (!cache.empty()) index->saveIndex(cache);
    }
    long rssDelta = rssBytes() - rss0;

    std::string json = get("json", "out.json");
    std::string tmp = json + ".hnsw.tmp";
    index->saveIndex(tmp);
    long indexBytes;
    { std::ifstream f(tmp, std::ios::binary | std::ios::ate); indexBytes = f.tellg(); }
    std::remove(tmp.c_str());

    std::vector<uint32_t> ids(nq * k);
    auto pass = [&](size_t lo, size_t hi) {
        for (size_t i = lo; i < hi; i++) {
            auto r = index->searchKnn(&qs[i * dim], k);
            uint32_t *row = &ids[i * k];
            for (size_t j = 0; j < k; j++) row[j] = 0xffffffffu;
            for (size_t j = r.size(); j > 0; j--) { row[j - 1] = (uint32_t)r.top().second; r.pop(); }
        }
    };
    std::ostringstream curve;
    std::stringstream efs(get("ef", "16,32,64,128,256,512"));
    std::string tok;
    bool first = true;
    while (std::getline(efs, tok, ',')) {
        if (tok.empty()) continue;
        size_t ef = std::stoul(tok);
        index->setEf(ef);
        pass(0, std::min<size_t>(nq, 1000));
        std::vector<double> best((nq + kChunk - 1) / kChunk, 1e300), bestCPU(best.size(), 1e300);
        double cpu = 0, wall = 0;
        for (int r = 0; r < runs; r++) {
            double c0 = threadCPU(), w0 = now();
            for (size_t c = 0; c < best.size(); c++) {
                double tc = threadCPU(), t = now();
                pass(c * kChunk, std::min(nq, (c + 1) * kChunk));
                best[c] = std::min(best[c], now() - t);
                bestCPU[c] = std::min(bestCPU[c], threadCPU() - tc);
            }
            cpu += threadCPU() - c0;
            wall += now() - w0;
        }
        double sum = 0, sumCPU = 0;
        for (double b : best) sum += b;
        for (double b : bestCPU) sumCPU += b;
        double qps = nq / sum;
        std::string path = get("ids-prefix", "ids") + "-ef" + tok + ".u32";
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<char *>(ids.data()), ids.size() * 4);
        curve << (first ? "" : ",") << "{\"ef\":" << ef << ",\"qps\":" << qps << ",\"cpu_qps\":" << nq / sumCPU << ",\"cpu_share\":" << cpu / wall << ",\"ids\":\"" << path << "\"}";
        first = false;
        fprintf(stderr, "hnswlib-native: ef=%-4zu %8.0f qps  cpu share %.2f\n", ef, qps, cpu / wall);
    }
    std::ofstream out(json);
    out << "{\"name\":\"hnswlib-native\",\"detail\":\"libhnswlib-dev headers, g++ -O3 -march=native, " << simd()
        << " kernels, space=" << space << "\",\"build_sec\":" << buildSec << ",\"build_cpu_sec\":" << buildCPU << ",\"index_bytes\":" << indexBytes
        << ",\"rss_delta_bytes\":" << rssDelta << ",\"curve\":[" << curve.str() << "]}\n";
    return 0;
}
