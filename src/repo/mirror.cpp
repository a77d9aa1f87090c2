#include "repo/mirror.h"

#include <git2.h>

#include <fstream>
#include <cstdint>
#include <sstream>
#include <string_view>

#include "repo/git_handles.h"

namespace gitvisor::repo {
namespace {

using namespace detail;

// What the credential callback hands libgit2, read once before connecting so that an unreadable file is
// reported as such rather than as a failed authentication.
struct Credentials {
    std::string ssh_private_key;
    std::string ssh_public_key;  // "" when there is no KEY.pub beside the key
    std::string user;
    std::string token;
    int attempts = 0;
};

bool readable(const std::string& path) { return std::ifstream(path).good(); }

// Decodes standard base64, skipping line breaks; stops at '=' or the first other character.
std::string base64_decode(std::string_view text) {
    std::string out;
    uint32_t bits = 0;
    int count = 0;
    for (const char c : text) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else if (c == '\n' || c == '\r') continue;
        else break;
        bits = (bits << 6) | static_cast<uint32_t>(v);
        if ((count += 6) >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xff);
        }
    }
    return out;
}

// Whether the private key in `path` is encrypted with a passphrase, which gitvisord has no way to ask for:
// PEM keys say so in a header ("Proc-Type: 4,ENCRYPTED", "ENCRYPTED PRIVATE KEY"); OpenSSH keys name their
// cipher after the "openssh-key-v1" magic ("none" when not encrypted).
bool passphrase_protected(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream read;
    read << in.rdbuf();
    const std::string text = read.str();
    if (text.find("Proc-Type: 4,ENCRYPTED") != std::string::npos ||
        text.find("BEGIN ENCRYPTED PRIVATE KEY") != std::string::npos)
        return true;
    constexpr std::string_view kBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
    const size_t begin = text.find(kBegin);
    if (begin == std::string::npos) return false;
    const std::string blob = base64_decode(std::string_view(text).substr(begin + kBegin.size() + 1));
    constexpr std::string_view kMagic("openssh-key-v1\0", 15);
    if (blob.size() < kMagic.size() + 4 || blob.compare(0, kMagic.size(), kMagic) != 0) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(blob.data()) + kMagic.size();
    const size_t length = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
    if (kMagic.size() + 4 + length > blob.size()) return false;
    return blob.compare(kMagic.size() + 4, length, "none") != 0;
}

Result<bool> read_token(const std::string& path, Credentials& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Result<bool>::fail("cannot read token file '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    std::string token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
        token.pop_back();
    if (token.empty()) return Result<bool>::fail("token file '" + path + "' is empty");
    const size_t colon = token.find(':');
    out.user = colon == std::string::npos ? "x-access-token" : token.substr(0, colon);
    out.token = colon == std::string::npos ? token : token.substr(colon + 1);
    return Result<bool>::ok(true);
}

// libgit2 asks again after each rejected credential: the second request for a secret means the first was
// refused, and answering again would only loop.
int acquire_credential(git_credential** out, const char*, const char* username_from_url, unsigned int allowed,
                       void* payload) {
    auto* credentials = static_cast<Credentials*>(payload);
    const char* ssh_user = username_from_url && *username_from_url ? username_from_url : "git";
    const bool ssh = (allowed & GIT_CREDENTIAL_SSH_KEY) && !credentials->ssh_private_key.empty();
    const bool token = (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !credentials->token.empty();
    if (!ssh && !token) {
        // ssh:// without a user first asks for one alone; anything else we have no answer for is libgit2's
        // to refuse with its own "authentication required".
        if (allowed & GIT_CREDENTIAL_USERNAME) return git_credential_username_new(out, ssh_user);
        return GIT_PASSTHROUGH;
    }
    if (++credentials->attempts > 1) {
        git_error_set_str(GIT_ERROR_NET, ssh ? "the ssh key was refused" : "the token was refused");
        return GIT_EAUTH;
    }
    if (ssh) {
        const std::string& pub = credentials->ssh_public_key;
        return git_credential_ssh_key_new(out, ssh_user, pub.empty() ? nullptr : pub.c_str(),
                                          credentials->ssh_private_key.c_str(), nullptr);
    }
    return git_credential_userpass_plaintext_new(out, credentials->user.c_str(), credentials->token.c_str());
}

// Opens the mirror, or makes it when nothing is there yet: bare, with HEAD on `branch` so that git commands
// run in it show the deployed branch.
Result<RepoPtr> open_mirror(const std::string& mirror_path, const std::string& branch) {
    git_repository* raw = nullptr;
    const int rc = git_repository_open_ext(&raw, mirror_path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
    if (rc == 0) {
        RepoPtr repo(raw);
        if (!git_repository_is_bare(repo.get()))
            return Result<RepoPtr>::fail("cannot use '" + mirror_path +
                                         "' as a mirror: not a bare repository");
        return Result<RepoPtr>::ok(std::move(repo));
    }
    if (rc != GIT_ENOTFOUND)
        return Result<RepoPtr>::fail("cannot open mirror '" + mirror_path + "': " + last_error());
    git_repository_init_options options = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    options.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_BARE;
    options.initial_head = branch.c_str();
    if (git_repository_init_ext(&raw, mirror_path.c_str(), &options) != 0)
        return Result<RepoPtr>::fail("cannot create mirror '" + mirror_path + "': " + last_error());
    return Result<RepoPtr>::ok(RepoPtr(raw));
}

// Remote "origin" with `url`. It has no fetch refspec: each fetch names the one branch it takes, so nothing
// else (refs/remotes/...) is ever written.
Result<RemotePtr> origin(git_repository* repo, const std::string& mirror_path, const std::string& url) {
    git_remote* raw = nullptr;
    int rc = git_remote_lookup(&raw, repo, "origin");
    if (rc == 0) {
        RemotePtr remote(raw);
        const char* current = git_remote_url(remote.get());
        if (current && url == current) return Result<RemotePtr>::ok(std::move(remote));
        remote.reset();
        if (git_remote_set_url(repo, "origin", url.c_str()) != 0 ||
            git_remote_lookup(&raw, repo, "origin") != 0)
            return Result<RemotePtr>::fail("cannot set the url of mirror '" + mirror_path + "' to '" + url +
                                           "': " + last_error());
        return Result<RemotePtr>::ok(RemotePtr(raw));
    }
    if (rc != GIT_ENOTFOUND)
        return Result<RemotePtr>::fail("cannot read remote 'origin' of '" + mirror_path +
                                       "': " + last_error());
    git_remote_create_options options = GIT_REMOTE_CREATE_OPTIONS_INIT;
    options.repository = repo;
    options.name = "origin";
    options.flags = GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    if (git_remote_create_with_opts(&raw, url.c_str(), &options) != 0)
        return Result<RemotePtr>::fail("cannot add remote '" + url + "' to '" + mirror_path +
                                       "': " + last_error());
    return Result<RemotePtr>::ok(RemotePtr(raw));
}

// The id of refs/heads/<branch> in the mirror, "" when it has none yet.
Result<std::string> local_tip(git_repository* repo, const std::string& ref) {
    git_oid id;
    const int rc = git_reference_name_to_id(&id, repo, ref.c_str());
    if (rc == GIT_ENOTFOUND) return Result<std::string>::ok("");
    if (rc != 0) return Result<std::string>::fail("cannot read '" + ref + "': " + last_error());
    return Result<std::string>::ok(oid_hex(&id));
}

bool advertised(git_remote* remote, const std::string& ref) {
    const git_remote_head** heads = nullptr;
    size_t count = 0;
    if (git_remote_ls(&heads, &count, remote) != 0) return false;
    for (size_t i = 0; i < count; ++i)
        if (heads[i] && heads[i]->name && ref == heads[i]->name) return true;
    return false;
}

// Disconnects on every exit path once connected.
struct Connection {
    git_remote* remote;
    ~Connection() { git_remote_disconnect(remote); }
};

}  // namespace

Result<FetchResult> fetch_branch(const std::string& mirror_path, const FetchOptions& options) {
    using R = Result<FetchResult>;
    init_libgit2();
    const std::string ref = "refs/heads/" + options.branch;
    const std::string failed = "cannot fetch '" + options.branch + "' from '" + options.url + "': ";
    int valid = 0;
    if (options.branch.empty() || git_reference_name_is_valid(&valid, ref.c_str()) != 0 || !valid)
        return R::fail(failed + "'" + options.branch + "' is not a valid branch name");
    if (options.url.empty()) return R::fail("cannot fetch '" + options.branch + "': no url");

    // 1. Credentials, read before anything is written.
    Credentials credentials;
    if (!options.ssh_key_file.empty()) {
        if (!readable(options.ssh_key_file))
            return R::fail(failed + "cannot read ssh key '" + options.ssh_key_file + "'");
        if (passphrase_protected(options.ssh_key_file))
            return R::fail(failed + "the ssh key '" + options.ssh_key_file +
                           "' is protected by a passphrase, which gitvisord cannot enter: use a key without one, "
                           "readable only by root (ssh-keygen -p -N '' -f KEY removes it)");
        credentials.ssh_private_key = options.ssh_key_file;
        if (readable(options.ssh_key_file + ".pub"))
            credentials.ssh_public_key = options.ssh_key_file + ".pub";
    }
    if (!options.token_file.empty()) {
        Result<bool> token = read_token(options.token_file, credentials);
        if (!token) return R::fail(failed + token.error());
    }

    // 2. The mirror, its remote, and the commit it holds now.
    Result<RepoPtr> repo = open_mirror(mirror_path, options.branch);
    if (!repo) return R::fail(repo.error());
    Result<RemotePtr> remote = origin(repo->get(), mirror_path, options.url);
    if (!remote) return R::fail(remote.error());
    Result<std::string> previous = local_tip(repo->get(), ref);
    if (!previous) return R::fail(previous.error());

    // 3. Connect and check that the remote has the branch, before downloading anything.
    git_fetch_options fetch = GIT_FETCH_OPTIONS_INIT;
    fetch.callbacks.credentials = acquire_credential;
    fetch.callbacks.payload = &credentials;
    fetch.prune = GIT_FETCH_NO_PRUNE;  // a branch deleted upstream keeps its last commit here
    fetch.update_fetchhead = 0;
    fetch.proxy_opts.type = GIT_PROXY_AUTO;  // http.proxy, then https_proxy/http_proxy from the environment
    if (git_remote_connect(remote->get(), GIT_DIRECTION_FETCH, &fetch.callbacks, &fetch.proxy_opts,
                           nullptr) != 0)
        return R::fail(failed + last_error());
    Connection connection{remote->get()};
    if (!advertised(remote->get(), ref))
        return R::fail(failed + "the remote has no branch '" + options.branch + "'");

    // 4. Objects first, then the ref (forced: a force-push is taken), each ref by lock file and rename.
    const std::string refspec = "+" + ref + ":" + ref;
    char* specs[] = {const_cast<char*>(refspec.c_str())};
    const git_strarray refspecs = {specs, 1};
    if (git_remote_download(remote->get(), &refspecs, &fetch) != 0) return R::fail(failed + last_error());
    const std::string reflog = "gitvisor fetch " + options.url + " " + options.branch;
    if (git_remote_update_tips(remote->get(), &fetch.callbacks, 0, fetch.download_tags, reflog.c_str()) != 0)
        return R::fail(failed + last_error());

    // 5. What changed.
    Result<std::string> tip = local_tip(repo->get(), ref);
    if (!tip) return R::fail(tip.error());
    if (tip->empty()) return R::fail(failed + "the fetch did not write '" + ref + "'");
    FetchResult out;
    out.tip = *tip;
    out.previous_tip = *previous;
    if (!out.previous_tip.empty() && out.previous_tip != out.tip) {
        git_oid tip_id, previous_id;
        git_oid_fromstr(&tip_id, out.tip.c_str());
        git_oid_fromstr(&previous_id, out.previous_tip.c_str());
        out.history_rewritten = git_graph_descendant_of(repo->get(), &tip_id, &previous_id) != 1;
    }
    return R::ok(std::move(out));
}

}  // namespace gitvisor::repo
