#include "dist/shared_memory_sum.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>
#include <random>
#include <stdexcept>
#include <thread>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace syncbn::dist {

namespace {

using Clock = std::chrono::steady_clock;
using Sequence = std::atomic<std::uint32_t>;
static_assert(Sequence::is_always_lock_free && sizeof(Sequence) == sizeof(std::uint32_t),
              "a futex waits on a plain 32-bit word");

constexpr std::uint32_t kMagic = 0x53424e31;  // "SBN1"
constexpr std::size_t kLine = 64;             // one cache line per rank's slot: no false sharing

// What every rank maps. The header and slots live in the first pages, each rank's two buffers
// after them: a rank writes sum k into buffer k % 2, so it can write sum k + 1 while slower ranks
// still read sum k. It cannot get further ahead: sum k + 2 would need every rank to have
// published k + 1, which each does only after reading everything of sum k.
struct Header {
  std::uint32_t magic;
  std::uint32_t worldSize;
  std::uint64_t capacity;
};

struct alignas(kLine) Slot {
  Sequence published;  // the last sum this rank's values are in its buffer for
  Sequence sleepers;   // ranks asleep on `published`, so a rank wakes them only when needed
  std::int32_t pid;    // to tell a rank that ended from one that is slow
};

std::size_t slotsOffset() {
  return kLine;
}
std::size_t buffersOffset(int worldSize) {
  return slotsOffset() + sizeof(Slot) * static_cast<std::size_t>(worldSize);
}
std::size_t segmentBytes(int worldSize) {
  return buffersOffset(worldSize) +
         2 * SharedMemorySum::kCapacity * sizeof(double) * static_cast<std::size_t>(worldSize);
}

Slot* slots(void* mapping) {
  return reinterpret_cast<Slot*>(static_cast<char*>(mapping) + slotsOffset());
}

// Which machine, boot and PID namespace this process runs in: ranks that agree on all three can
// map the same segment by name and see each other's process ids.
std::string machineIdentity() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string boot;
  std::ifstream("/proc/sys/kernel/random/boot_id") >> boot;
  char pidNamespace[128] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", pidNamespace, sizeof pidNamespace - 1);
  if (boot.empty() || n <= 0) return {};  // not Linux enough to tell: never share
  return std::string(host) + "|" + boot + "|" + std::string(pidNamespace, static_cast<size_t>(n));
}

// How long a rank spins before it sleeps: a futex wake-up costs tens of microseconds on a
// virtual machine, and ranks often arrive that close together. With more ranks than cores a
// spinning rank would keep the late one off its core, so then it sleeps at once.
std::chrono::nanoseconds spinBudget(int worldSize) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const int available = ::sched_getaffinity(0, sizeof cpus, &cpus) == 0
                            ? CPU_COUNT(&cpus)
                            : static_cast<int>(std::thread::hardware_concurrency());
  return worldSize <= available ? std::chrono::microseconds(20) : std::chrono::nanoseconds(0);
}

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Waits while *word == expected, at most `slice`. Spurious returns are fine: callers re-check.
void futexWait(Sequence& word, std::uint32_t expected, std::chrono::nanoseconds slice) {
#ifdef __linux__
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(slice);
  const timespec timeout{static_cast<time_t>(seconds.count()),
                         static_cast<long>((slice - seconds).count())};
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &timeout,
            nullptr, 0);
#else
  (void)word;
  (void)expected;
  std::this_thread::sleep_for(std::min(slice, std::chrono::nanoseconds(50'000)));
#endif
}

void futexWakeAll(Sequence& word) {
#ifdef __linux__
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT32_MAX, nullptr,
            nullptr, 0);
#else
  (void)word;
#endif
}

// Gone, or a zombie its parent has not reaped yet (kill() still finds those).
bool processEnded(std::int32_t pid) {
  if (pid <= 0 || pid == ::getpid()) return false;
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const std::size_t close = line.rfind(')');  // the command name may itself hold ") "
  return close != std::string::npos && close + 2 < line.size() &&
         (line[close + 2] == 'Z' || line[close + 2] == 'X');
}

std::string uniqueSegmentName() {
  static std::atomic<unsigned> counter{0};
  std::random_device entropy;
  return "/syncbn-sum-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(entropy());
}

// A mapping of the segment, or nullptr. Rank 0 creates and initialises it, the others open it.
void* mapSegment(const std::string& name, int worldSize, bool create) {
  const std::size_t bytes = segmentBytes(worldSize);
  const int fd = create ? ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR)
                        : ::shm_open(name.c_str(), O_RDWR, 0);
  if (fd < 0) return nullptr;
  struct stat status {};
  // posix_fallocate, not ftruncate: a sparse segment on a full /dev/shm would fault with SIGBUS
  // at the first write in the middle of training; reserving the pages now fails here instead.
  const bool sized =
      create ? ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)) == 0
             : ::fstat(fd, &status) == 0 && static_cast<std::size_t>(status.st_size) == bytes;
  void* mapping =
      sized ? ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (mapping == MAP_FAILED) {
    if (create) ::shm_unlink(name.c_str());
    return nullptr;
  }
  auto* header = static_cast<Header*>(mapping);
  if (create) {
    new (header) Header{kMagic, static_cast<std::uint32_t>(worldSize), SharedMemorySum::kCapacity};
    for (int r = 0; r < worldSize; ++r)
      new (&slots(mapping)[r]) Slot{{0}, {0}, 0};
  } else if (header->magic != kMagic ||
             header->worldSize != static_cast<std::uint32_t>(worldSize) ||
             header->capacity != SharedMemorySum::kCapacity) {
    ::munmap(mapping, bytes);
    return nullptr;
  }
  return mapping;
}

}  // namespace

std::unique_ptr<SharedMemorySum> SharedMemorySum::connect(KeyValueStore& store, int rank,
                                                          int worldSize, bool enabled,
                                                          std::chrono::milliseconds timeout) {
  if (worldSize < 2 || rank < 0 || rank >= worldSize) return nullptr;
  // A store may serve several connections one after the other; the counter gives each its own
  // keys (every rank of one connection gets a value in the same block of worldSize).
  const std::int64_t ticket = store.add("shared-memory-sum/connections", 1);
  const std::string prefix = "shared-memory-sum/" + std::to_string((ticket - 1) / worldSize) + "/";
  const auto allRanks = [&](const std::string& key, auto&& accept) {
    bool all = true;
    for (int r = 0; r < worldSize; ++r)
      all = accept(store.get(prefix + key + std::to_string(r))) && all;
    return all;
  };

  const std::string identity = enabled ? machineIdentity() : std::string();
  store.set(prefix + "machine/" + std::to_string(rank), identity);
  const bool oneMachine = allRanks("machine/", [&](const std::string& theirs) {
    return !identity.empty() && theirs == identity;
  });
  if (!oneMachine) return nullptr;

  std::string name;
  void* mapping = nullptr;
  if (rank == 0) {
    name = uniqueSegmentName();
    mapping = mapSegment(name, worldSize, /*create=*/true);
    store.set(prefix + "segment", mapping ? name : std::string());
  } else {
    name = store.get(prefix + "segment");
    if (!name.empty()) mapping = mapSegment(name, worldSize, /*create=*/false);
  }
  if (mapping) slots(mapping)[rank].pid = static_cast<std::int32_t>(::getpid());
  store.set(prefix + "mapped/" + std::to_string(rank), mapping ? "1" : "0");
  const bool allMapped = allRanks("mapped/", [](const std::string& v) { return v == "1"; });
  if (rank == 0 && mapping) ::shm_unlink(name.c_str());  // every rank that will map it has
  if (!allMapped) {
    if (mapping) ::munmap(mapping, segmentBytes(worldSize));
    return nullptr;
  }
  return std::unique_ptr<SharedMemorySum>(
      new SharedMemorySum(rank, worldSize, timeout, mapping, segmentBytes(worldSize)));
}

SharedMemorySum::SharedMemorySum(int rank, int worldSize, std::chrono::milliseconds timeout,
                                 void* mapping, std::size_t bytes)
    : rank_(rank),
      worldSize_(worldSize),
      timeout_(timeout),
      spin_(spinBudget(worldSize)),
      mapping_(mapping),
      bytes_(bytes) {}

SharedMemorySum::~SharedMemorySum() {
  ::munmap(mapping_, bytes_);
}

double* SharedMemorySum::buffer(int rank, std::uint32_t sequence) const {
  auto* first = reinterpret_cast<double*>(static_cast<char*>(mapping_) + buffersOffset(worldSize_));
  return first + (static_cast<std::size_t>(rank) * 2 + sequence % 2) * kCapacity;
}

void SharedMemorySum::sum(double* values, std::size_t count) {
  if (count > kCapacity)
    throw std::invalid_argument("SharedMemorySum::sum: " + std::to_string(count) +
                                " values, more than its capacity of " + std::to_string(kCapacity));
  const std::uint32_t sequence = ++sequence_;
  std::memcpy(buffer(rank_, sequence), values, count * sizeof(double));
  Slot& own = slots(mapping_)[rank_];
  // Sequentially consistent on both sides: either this rank sees a sleeper and wakes it, or the
  // sleeper sees the new sequence before it sleeps (and FUTEX_WAIT re-checks the word itself).
  own.published.store(sequence, std::memory_order_seq_cst);
  if (own.sleepers.load(std::memory_order_seq_cst) != 0) futexWakeAll(own.published);

  for (int peer = 0; peer < worldSize_; ++peer)
    if (peer != rank_) waitFor(peer, sequence);

  for (std::size_t i = 0; i < count; ++i) {
    double total = buffer(0, sequence)[i];
    for (int r = 1; r < worldSize_; ++r)
      total += buffer(r, sequence)[i];
    values[i] = total;
  }
}

void SharedMemorySum::waitFor(int peer, std::uint32_t sequence) const {
  Slot& theirs = slots(mapping_)[peer];
  // Wrap-around safe: a peer is at most one sum ahead, never 2^31.
  const auto arrived = [&](std::uint32_t seen) {
    return static_cast<std::int32_t>(seen - sequence) >= 0;
  };
  if (arrived(theirs.published.load(std::memory_order_acquire))) return;

  const auto start = Clock::now();
  while (Clock::now() - start < spin_) {
    cpuRelax();
    if (arrived(theirs.published.load(std::memory_order_acquire))) return;
  }

  // The slice bounds how long a rank that ended goes unnoticed.
  constexpr std::chrono::milliseconds kSlice(100);
  theirs.sleepers.fetch_add(1, std::memory_order_seq_cst);
  struct Awake {
    Sequence& sleepers;
    ~Awake() { sleepers.fetch_sub(1, std::memory_order_seq_cst); }
  } awake{theirs.sleepers};
  for (;;) {
    const std::uint32_t seen = theirs.published.load(std::memory_order_seq_cst);
    if (arrived(seen)) return;
    const auto waited = Clock::now() - start;
    if (processEnded(theirs.pid))
      throw std::runtime_error("rank " + std::to_string(peer) + " (process " +
                               std::to_string(theirs.pid) + ") ended while rank " +
                               std::to_string(rank_) + " waited for it in a shared-memory sum");
    if (waited >= timeout_)
      throw std::runtime_error(
          "rank " + std::to_string(rank_) + " waited more than " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count()) +
          " ms for rank " + std::to_string(peer) + " in a shared-memory sum");
    futexWait(theirs.published, seen,
              std::min<std::chrono::nanoseconds>(kSlice, timeout_ - waited));
  }
}

}  // namespace syncbn::dist
