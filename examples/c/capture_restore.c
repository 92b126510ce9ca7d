/* capture_restore: what a deployment agent does with migstore's C API.
 *
 *   capture_restore WORKDIR
 *
 * Makes a small machine root under WORKDIR/old (an account in etc/passwd and
 * its home), captures it into an encrypted store with a progress callback,
 * restores the store into WORKDIR/new, and checks that the files came back.
 * Exits 0 when they did; otherwise prints why and exits with the failing
 * call's code (the migstore command's exit codes). docs/embedding.md explains
 * each step. */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <migstore/migstore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The files the example captures, relative to the root, and their text. */
static const char* const kFiles[][2] = {
    {"home/alice/Documents/report.txt", "quarterly numbers\n"},
    {"home/alice/Documents/notes/todo.txt", "migrate alice\n"},
    {"home/alice/.bashrc", "export EDITOR=vi\n"},
};
enum { kFileCount = sizeof(kFiles) / sizeof(kFiles[0]) };

/* out = dir + "/" + rel; -1 when it does not fit. */
static int Join(char out[4096], const char* dir, const char* rel) {
  int n = snprintf(out, 4096, "%s/%s", dir, rel);
  return n >= 0 && n < 4096 ? 0 : -1;
}

/* mkdir -p for the directories above `path` (not `path` itself). */
static int MakeParents(const char* path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof(buf)) return -1;
  memcpy(buf, path, n + 1);
  for (char* p = buf + 1; *p != '\0'; ++p) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return 0;
}

static int WriteText(const char* path, const char* text) {
  if (MakeParents(path) != 0) return -1;
  FILE* f = fopen(path, "w");
  if (f == NULL) return -1;
  int ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* 1 when the file at `path` holds exactly `text`. */
static int HoldsText(const char* path, const char* text) {
  char buf[256];
  FILE* f = fopen(path, "r");
  if (f == NULL) return 0;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strcmp(buf, text) == 0;
}

/* The progress callback: one line per phase change, and the percentage. The
 * library calls it from one thread at a time, not always this one. */
struct ProgressState {
  const char* what;
  char last_phase[32];
  int calls;
};

static void OnProgress(void* user_data, const migstore_progress* p) {
  struct ProgressState* s = user_data;
  ++s->calls;
  if (strncmp(s->last_phase, p->phase, sizeof(s->last_phase)) == 0) return;
  snprintf(s->last_phase, sizeof(s->last_phase), "%s", p->phase);
  unsigned pct =
      p->bytes_total ? (unsigned)(100 * p->bytes_done / p->bytes_total) : 0;
  printf("%s: %-12s %llu/%llu files, %u%%\n", s->what, p->phase,
         (unsigned long long)p->files_done, (unsigned long long)p->files_total,
         pct);
}

static void OnFileError(void* user_data, const char* path, int code,
                        const char* message) {
  (void)user_data;
  fprintf(stderr, "file error (%d %s) %s: %s\n", code, migstore_code_name(code),
          path, message);
}

/* Prints a failed call and passes its code on. */
static int Failed(const char* call, int code, char* errmsg) {
  fprintf(stderr, "%s: %d (%s): %s\n", call, code, migstore_code_name(code),
          errmsg ? errmsg : "");
  migstore_free(errmsg);
  return code;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s WORKDIR\n", argv[0]);
    return MIGSTORE_INVALID_ARGUMENTS;
  }
  char old_root[4096], new_root[4096], store[4096], key_path[4096];
  char path[4096];
  if (Join(old_root, argv[1], "old") != 0 ||
      Join(new_root, argv[1], "new") != 0 ||
      Join(store, argv[1], "pc42.mig") != 0 ||
      Join(key_path, argv[1], "pc42.key") != 0) {
    fprintf(stderr, "%s: WORKDIR is too long\n", argv[0]);
    return MIGSTORE_INVALID_ARGUMENTS;
  }
  printf("migstore %s (C API %d)\n", migstore_version(),
         migstore_c_api_version());

  /* The old machine: an account and its files. */
  if (Join(path, old_root, "etc/passwd") != 0 ||
      WriteText(path, "alice:x:1000:1000::/home/alice:/bin/sh\n") != 0) {
    perror(path);
    return MIGSTORE_FATAL;
  }
  for (int i = 0; i < kFileCount; ++i) {
    if (Join(path, old_root, kFiles[i][0]) != 0 ||
        WriteText(path, kFiles[i][1]) != 0) {
      perror(path);
      return MIGSTORE_FATAL;
    }
  }

  /* A key file, then a key handle from it. */
  char* errmsg = NULL;
  int code = migstore_keygen(key_path, /*overwrite=*/1, &errmsg);
  if (code != MIGSTORE_OK) return Failed("migstore_keygen", code, errmsg);
  migstore_key* key = NULL;
  code = migstore_key_from_key_file(key_path, &key, &errmsg);
  if (code != MIGSTORE_OK)
    return Failed("migstore_key_from_key_file", code, errmsg);

  /* Capture. Zero is every field's default; struct_size comes first. */
  struct ProgressState capture_progress = {"capture", "", 0};
  migstore_capture_options co = {.struct_size = sizeof co};
  co.root = old_root;
  co.store_path = store;
  co.key = key;
  co.overwrite = 1;
  co.on_progress = OnProgress;
  co.on_file_error = OnFileError;
  co.user_data = &capture_progress;
  migstore_capture_result cr = {.struct_size = sizeof cr};
  code = migstore_capture(&co, &cr, &errmsg);
  if (code != MIGSTORE_OK) {
    migstore_key_destroy(key);
    return Failed("migstore_capture", code, errmsg);
  }
  printf("captured %llu files (%llu bytes) into %s: %llu bytes\n",
         (unsigned long long)cr.files, (unsigned long long)cr.bytes, store,
         (unsigned long long)cr.store_size);

  /* Restore onto the new machine. */
  struct ProgressState restore_progress = {"restore", "", 0};
  migstore_restore_options ro = {.struct_size = sizeof ro};
  ro.store_path = store;
  ro.key = key;
  ro.target = new_root;
  ro.on_progress = OnProgress;
  ro.on_file_error = OnFileError;
  ro.user_data = &restore_progress;
  migstore_restore_result rr = {.struct_size = sizeof rr};
  code = migstore_restore(&ro, &rr, &errmsg);
  migstore_key_destroy(key);
  if (code != MIGSTORE_OK) return Failed("migstore_restore", code, errmsg);
  printf("restored %llu files into %s\n", (unsigned long long)rr.files,
         new_root);

  /* Check what came back. */
  int bad = 0;
  if (cr.files != kFileCount || rr.files != kFileCount) {
    fprintf(stderr, "expected %d files, captured %llu, restored %llu\n",
            kFileCount, (unsigned long long)cr.files,
            (unsigned long long)rr.files);
    bad = 1;
  }
  for (int i = 0; i < kFileCount; ++i) {
    if (Join(path, new_root, kFiles[i][0]) != 0 ||
        !HoldsText(path, kFiles[i][1])) {
      fprintf(stderr, "%s did not come back intact\n", path);
      bad = 1;
    }
  }
  if (capture_progress.calls == 0 || restore_progress.calls == 0) {
    fprintf(stderr, "the progress callback was never called\n");
    bad = 1;
  }
  if (bad) return MIGSTORE_INTERNAL;
  printf("ok\n");
  return 0;
}
