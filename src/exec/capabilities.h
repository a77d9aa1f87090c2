#pragma once
// CapabilityBoundingSet= and AmbientCapabilities= (systemd.exec(5)): capability names, systemd's way of
// merging several assignments into one set, and the calls the child makes before execve. Raw
// capget/capset and prctl, no libcap.
//
// In the child, in this order (as systemd's exec_child()):
//   1. add the ambient set to the inheritable set (allowed while the bounding set still has them),
//   2. drop what the bounding set does not keep,
//   3. keep the permitted set across the change of user (PR_SET_KEEPCAPS), then setresuid,
//   4. raise the ambient set: it survives execve of a program without file capabilities.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gitvisor::exec {

struct Spec;

// CAP_CHOWN -> 0 ...; -1 for an unknown name.
int capability_from_name(std::string_view name);
// The name of capability `cap` ("" when unknown).
std::string_view capability_name(int cap);

// "All capabilities", systemd's CAP_ALL: the bounding set before any assignment.
constexpr uint64_t kAllCapabilities = ~uint64_t{0};

// Merges assignments as systemd's config_parse_capability_set(): each is a space-separated list of names,
// optionally prefixed by '~' (all but these). The first assignment, or one that is empty or lists nothing,
// replaces the set; later ones are ORed in (or, with '~', ANDed with the complement). `initial` is the
// set before any assignment: kAllCapabilities for the bounding set, 0 for the ambient set.
// Error: "unknown capability 'CAP_X'".
Result<uint64_t> merge_capability_assignments(const std::vector<std::string>& assignments, uint64_t initial);

// The bounding set a unit's commands get: CapabilityBoundingSet= (all when unset) less what the sandbox
// settings take away, as in systemd: PrivateDevices= CAP_MKNOD and CAP_SYS_RAWIO, ProtectKernelModules=
// CAP_SYS_MODULE, ProtectKernelLogs= CAP_SYSLOG, ProtectClock= CAP_SYS_TIME and CAP_WAKE_ALARM.
uint64_t effective_bounding_set(const Spec& spec);

// "CAP_NET_ADMIN CAP_SYS_ADMIN" for a mask (for messages and tests).
std::string capability_names(uint64_t set);

// The calls; each returns 0 or an errno. Capabilities the running kernel does not know are skipped.
int add_inheritable_capabilities(uint64_t set);
int limit_bounding_set(uint64_t keep);  // drops every capability of the bounding set that `keep` lacks
int set_keep_capabilities(bool keep);   // PR_SET_KEEPCAPS: keep the permitted set across setresuid
int raise_ambient_capabilities(uint64_t set);

}  // namespace gitvisor::exec
