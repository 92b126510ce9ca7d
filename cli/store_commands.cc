#include "store_commands.h"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "cli_common.h"
#include "json_writer.h"
#include "migstore/delete_store.h"
#include "migstore/listing.h"
#include "progress_line.h"

namespace migstore::cli {
namespace {

std::string Time(int64_t ns) {
  time_t s = static_cast<time_t>(ns / 1000000000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

void UserJson(JsonWriter* j, const StoreUser& u) {
  j->BeginObject();
  j->Key("name");
  j->String(u.name);
  j->Key("home");
  j->String(u.home);
  j->Key("layout");
  j->String(u.layout);
  j->Key("uid");
  j->Number(static_cast<uint64_t>(u.uid));
  j->Key("gid");
  j->Number(static_cast<uint64_t>(u.gid));
  if (!u.sid.empty()) {
    j->Key("sid");
    j->String(u.sid);
  }
  j->Key("last_use_ns");
  j->Number(u.last_use_ns);
  j->Key("folders");
  j->BeginObject();
  for (const auto& [k, v] : u.folders) {
    j->Key(k);
    j->String(v);
  }
  j->EndObject();
  j->EndObject();
}

void SettingJson(JsonWriter* j, const StoreSetting& x) {
  j->BeginObject();
  if (!x.user.empty()) {
    j->Key("user");
    j->String(x.user);
  }
  j->Key("key");
  j->String(x.key);
  if (x.is_value) {
    j->Key("value");
    j->String(x.name);
    j->Key("type");
    j->String(x.type);
    j->Key("size");
    j->Number(x.size);
    j->Key("data");
    j->String(x.text);
  }
  j->EndObject();
}

void EntryJson(JsonWriter* j, const StoreEntry& e) {
  j->BeginObject();
  j->Key("path");
  j->String(e.path);
  j->Key("type");
  j->String(e.type);
  j->Key("user");
  j->String(e.user);
  j->Key("size");
  j->Number(e.size);
  j->Key("mode");
  j->Number(static_cast<uint64_t>(e.mode));
  j->Key("uid");
  j->Number(static_cast<uint64_t>(e.uid));
  j->Key("gid");
  j->Number(static_cast<uint64_t>(e.gid));
  if (!e.owner.empty()) {
    j->Key("owner");
    j->String(e.owner);
  }
  if (!e.group.empty()) {
    j->Key("group");
    j->String(e.group);
  }
  j->Key("mtime_ns");
  j->Number(e.mtime_ns);
  if (!e.symlink_target.empty()) {
    j->Key("target");
    j->String(e.symlink_target);
  }
  if (e.link_group != 0) {
    j->Key("link_group");
    j->Number(e.link_group);
  }
  if (e.xattrs != 0) {
    j->Key("xattrs");
    j->Number(static_cast<uint64_t>(e.xattrs));
  }
  j->EndObject();
}

}  // namespace

CLI::App* AddListCommand(CLI::App* app, ListOptions* o) {
  CLI::App* cmd =
      app->add_subcommand("list", "List a store's users and entries");
  cmd->add_option("--store", o->store,
                  "The store: a file, s3://BUCKET/KEY, or a hard-link "
                  "store's directory")
      ->required();
  AddKeyOptions(cmd, &o->key, /*capture=*/false);
  cmd->add_flag("--json", o->json,
                "Print JSON: {\"store\":…, \"users\":[…], \"entries\":[…]}");
  return cmd;
}

CLI::App* AddKeygenCommand(CLI::App* app, KeygenOptions* o) {
  CLI::App* cmd = app->add_subcommand(
      "keygen", "Write a new random key file (mode 0600) for --key-file");
  cmd->add_option("--out", o->out, "The key file to create")->required();
  cmd->add_flag("--overwrite", o->overwrite, "Replace an existing file");
  return cmd;
}

int RunList(const ListOptions& o) {
  auto key = ResolveKey(o.key, "list");
  if (!key.ok()) return Fail("list", key.status());
  const KeyPolicy policy = PolicyOf(o.key);
  StoreSummary summary;
  Status s;
  if (o.json) {
    // Entries stream as they are read; the header comes from the summary,
    // which is known before the first entry.
    std::unique_ptr<JsonWriter> j;
    auto open = [&] {
      j = std::make_unique<JsonWriter>(stdout);
      j->BeginObject();
      j->Key("store");
      j->BeginObject();
      j->Key("path");
      j->String(o.store);
      j->Key("kind");
      j->String(summary.kind);
      j->Key("format_version");
      j->Number(static_cast<uint64_t>(summary.format_version));
      j->Key("encryption");
      j->String(summary.encryption);
      j->Key("cipher");
      j->String(summary.cipher);
      j->Key("size");
      j->Number(summary.file_size);
      j->Key("entries");
      j->Number(summary.entries);
      j->Key("contents");
      j->Number(summary.contents);
      for (const auto& [k, v] : summary.properties) {
        j->Key(k);
        j->String(v);
      }
      j->EndObject();
      j->Key("users");
      j->BeginArray();
      for (const StoreUser& u : summary.users) UserJson(j.get(), u);
      j->EndArray();
      j->Key("entries");
      j->BeginArray();
    };
    std::vector<StoreSetting> settings;
    auto keep_setting = [&](const StoreSetting& x) {
      settings.push_back(x);
      return Status::OK();
    };
    s = ListStore(
        o.store, *key, policy, &summary,
        [&](const StoreEntry& e) {
          if (!j) open();
          EntryJson(j.get(), e);
          return Status::OK();
        },
        keep_setting);
    if (s.ok() && !j) open();  // a store with no entries
    if (j && s.ok()) {
      j->EndArray();
      j->Key("settings");
      j->BeginArray();
      for (const StoreSetting& x : settings) SettingJson(j.get(), x);
      j->EndArray();
      j->EndObject();
    }
  } else {
    bool header = false;
    s = ListStore(
        o.store, *key, policy, &summary,
        [&](const StoreEntry& e) {
          if (!header) {
            header = true;
            const std::string protection = summary.encryption == "none"
                                               ? "not encrypted"
                                               : "encrypted with a " +
                                                     summary.encryption + " (" +
                                                     summary.cipher + ")";
            std::printf(
                "%s %s: format %d, %s, %s%s, %" PRIu64 " entries\n",
                summary.kind == "hardlink" ? "hard-link store" : "store",
                o.store.c_str(), summary.format_version, protection.c_str(),
                summary.kind == "hardlink" ? "catalog " : "",
                HumanBytes(summary.file_size).c_str(), summary.entries);
            for (const StoreUser& u : summary.users) {
              std::printf("user %s (%s)\n", DisplayBytes(u.name).c_str(),
                          DisplayBytes(u.home).c_str());
            }
          }
          std::printf("%-7s %04o %12" PRIu64 " %s  %s%s%s\n", e.type, e.mode,
                      e.size, Time(e.mtime_ns).c_str(),
                      DisplayBytes(e.path).c_str(),
                      e.symlink_target.empty() ? "" : " -> ",
                      DisplayBytes(e.symlink_target).c_str());
          return Status::OK();
        },
        [](const StoreSetting& x) {
          // setting  HKCU\Control Panel\Desktop [Wallpaper]  REG_SZ  C:\a.bmp
          // (alice)
          std::string user = x.user.empty() ? "" : "  (" + x.user + ")";
          if (x.is_value) {
            std::printf("setting %s [%s]  %s  %s%s\n",
                        DisplayBytes(x.key).c_str(),
                        DisplayBytes(x.name).c_str(), x.type.c_str(),
                        DisplayBytes(x.text).c_str(), user.c_str());
          } else {
            std::printf("key     %s%s\n", DisplayBytes(x.key).c_str(),
                        user.c_str());
          }
          return Status::OK();
        });
  }
  if (!s.ok()) return Fail("list", s);
  return Code(ExitCode::kSuccess);
}

CLI::App* AddDeleteCommand(CLI::App* app, DeleteOptions* o) {
  CLI::App* cmd = app->add_subcommand(
      "delete",
      "Delete a hard-link store, and nothing else (UsmtUtils /rd): the "
      "originals keep their data");
  cmd->add_option("--store", o->store, "The hard-link store's directory")
      ->required();
  cmd->add_flag("--yes", o->yes, "Do not ask for confirmation");
  return cmd;
}

int RunDelete(const DeleteOptions& o) {
  if (!o.yes) {
    // Asking needs someone to answer: never read a script's input as a yes.
    if (::isatty(STDIN_FILENO) == 0) {
      return Fail("delete",
                  Status::InvalidArgument(
                      "standard input is not a terminal, so there is no one "
                      "to confirm: say --yes to delete without asking"));
    }
    auto info = InspectHardLinkStore(o.store);
    if (!info.ok()) return Fail("delete", info.status());
    std::fprintf(stderr,
                 "delete hard-link store %s (id %s: %" PRIu64 " files, %" PRIu64
                 " directories)? The originals stay. [y/N] ",
                 o.store.c_str(), info->store_id.c_str(), info->files,
                 info->directories);
    std::fflush(stderr);
    std::string answer;
    int c;
    while ((c = std::getchar()) != EOF && c != '\n')
      answer += static_cast<char>(c);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      std::fprintf(stderr, "migstore delete: nothing deleted\n");
      return Code(ExitCode::kCancelled);
    }
  }
  auto removed = DeleteHardLinkStore(o.store);
  if (!removed.ok()) return Fail("delete", removed.status());
  std::printf("deleted hard-link store %s: %" PRIu64 " files, %" PRIu64
              " directories\n",
              o.store.c_str(), removed->files, removed->directories);
  return Code(ExitCode::kSuccess);
}

int RunKeygen(const KeygenOptions& o) {
  Status s = WriteKeyFile(o.out, o.overwrite);
  if (!s.ok()) return Fail("keygen", s);
  std::printf(
      "wrote key file %s (mode 0600): keep it safe; without it the store "
      "cannot be "
      "opened\n",
      o.out.c_str());
  return Code(ExitCode::kSuccess);
}

}  // namespace migstore::cli
