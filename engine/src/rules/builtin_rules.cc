// The built-in rule sets, in the native language (docs/rules.md, "Built-in
// rules"). Used when a capture is given no rules file.

#include "migstore/rules.h"

namespace migstore {
namespace {

// What a user misses after reinstalling a linux desktop: the XDG folders,
// keys, shell and git settings, application settings and data, mail and
// browser profiles; minus caches, trash, thumbnails and build output.
constexpr std::string_view kLinuxRules =
    R"(# migstore built-in rules for a linux root.

component "Known folders"
include %DOCUMENTS%/**
include %DESKTOP%/**
include %DOWNLOADS%/**
include %PICTURES%/**
include %MUSIC%/**
include %VIDEOS%/**
include %TEMPLATES%/**
include %PUBLICSHARE%/**

component "Keys and shell"
include %USERPROFILE%/.ssh
include %USERPROFILE%/.gnupg
include %USERPROFILE%/.password-store
include %USERPROFILE%/.netrc
include %USERPROFILE%/.pgpass
include %USERPROFILE%/.profile
include %USERPROFILE%/.bashrc
include %USERPROFILE%/.bash_profile
include %USERPROFILE%/.bash_login
include %USERPROFILE%/.bash_logout
include %USERPROFILE%/.bash_aliases
include %USERPROFILE%/.bash_history
include %USERPROFILE%/.inputrc
include %USERPROFILE%/.zshrc
include %USERPROFILE%/.zshenv
include %USERPROFILE%/.zprofile
include %USERPROFILE%/.zlogin
include %USERPROFILE%/.zlogout
include %USERPROFILE%/.zsh_history
include %USERPROFILE%/.gitconfig
include %USERPROFILE%/.git-credentials
include %USERPROFILE%/.vimrc
include %USERPROFILE%/.vim
include %USERPROFILE%/.tmux.conf
include %USERPROFILE%/.screenrc
include %USERPROFILE%/.nanorc
include %USERPROFILE%/.editorconfig
include %USERPROFILE%/.face
include %USERPROFILE%/.local/bin

component "Application settings and data"
include %APPDATA%/**
include %LOCALAPPDATA%/**
include %USERPROFILE%/.var/app/*/config/**
include %USERPROFILE%/.var/app/*/data/**

component "Mail and browsers"
include %USERPROFILE%/Maildir
include %USERPROFILE%/Mail
include %USERPROFILE%/mail
include %USERPROFILE%/.muttrc
include %USERPROFILE%/.mutt
include %USERPROFILE%/.mozilla
include %USERPROFILE%/.thunderbird
include %USERPROFILE%/snap/firefox/common/.mozilla
include %USERPROFILE%/snap/thunderbird/common/.thunderbird

# Caches, trash, thumbnails, indexes and reinstallable payloads.
component "Caches and build output"
unconditional-exclude %USERPROFILE%/.cache
unconditional-exclude %USERPROFILE%/.thumbnails
unconditional-exclude %LOCALAPPDATA%/Trash
unconditional-exclude %LOCALAPPDATA%/baloo
unconditional-exclude %LOCALAPPDATA%/tracker
unconditional-exclude %LOCALAPPDATA%/tracker3
unconditional-exclude %LOCALAPPDATA%/flatpak
unconditional-exclude %LOCALAPPDATA%/containers
unconditional-exclude %LOCALAPPDATA%/Steam/steamapps

# Browser and Electron caches and run-time locks.
unconditional-exclude %APPDATA%/**/Cache
unconditional-exclude %APPDATA%/**/Code Cache
unconditional-exclude %APPDATA%/**/GPUCache
unconditional-exclude %APPDATA%/**/GrShaderCache
unconditional-exclude %APPDATA%/**/ShaderCache
unconditional-exclude %APPDATA%/**/DawnCache
unconditional-exclude %APPDATA%/**/Service Worker/CacheStorage
unconditional-exclude %APPDATA%/**/Service Worker/ScriptCache
unconditional-exclude %APPDATA%/**/Singleton*
unconditional-exclude %USERPROFILE%/**/.mozilla/**/cache2
unconditional-exclude %USERPROFILE%/**/.mozilla/**/startupCache
unconditional-exclude %USERPROFILE%/**/.mozilla/**/thumbnails
unconditional-exclude %USERPROFILE%/**/.mozilla/**/.parentlock
unconditional-exclude %USERPROFILE%/**/.thunderbird/**/cache2
unconditional-exclude %USERPROFILE%/**/.thunderbird/**/.parentlock

# Build output, rebuilt from the sources it sits next to.
unconditional-exclude %USERPROFILE%/**/node_modules
unconditional-exclude %USERPROFILE%/**/__pycache__
unconditional-exclude %USERPROFILE%/**/*.pyc
unconditional-exclude %USERPROFILE%/**/.pytest_cache
unconditional-exclude %USERPROFILE%/**/.mypy_cache
unconditional-exclude %USERPROFILE%/**/.tox
unconditional-exclude %USERPROFILE%/**/.venv
unconditional-exclude %USERPROFILE%/**/CMakeFiles
unconditional-exclude %USERPROFILE%/**/*.o
)";

// USMT's stock MigUser.xml, component for component: the same folders and
// extensions, the same exclusions, and so the same precedence.
constexpr std::string_view kWindowsRules =
    R"(# migstore built-in rules for a windows root: what USMT's MigUser.xml takes.

component "My Video"
include %VIDEOS%/**
component "Shared Video"
include %COMMON_VIDEO%/**
component "My Music"
include %MUSIC%/**
component "Shared Music"
include %COMMON_MUSIC%/**
component "Desktop"
include %DESKTOP%/**
component "Shared Desktop"
include %COMMON_DESKTOP%/**
component "Start Menu"
include %STARTMENU%/**
component "Shared Start Menu"
include %COMMON_STARTMENU%/**

component "My Documents"
include %DOCUMENTS%/**
exclude %MUSIC%/**
exclude %PICTURES%/**
exclude %VIDEOS%/**

component "Shared Documents"
include %COMMON_DOCUMENTS%/**
exclude %COMMON_PICTURES%/**
exclude %COMMON_MUSIC%/**
exclude %COMMON_VIDEO%/**

component "My Pictures"
include %PICTURES%/**
component "Shared Pictures"
include %COMMON_PICTURES%/**
component "Favorites"
include %FAVORITES%/**
component "Shared Favorites"
include %COMMON_FAVORITES%/**
component "Quick Launch"
include %QUICKLAUNCH%/**

# Documents by extension anywhere on the drive, outside profiles and the
# system's own folders.
component "User Data"
include **/*.qdf
include **/*.qsd
include **/*.qel
include **/*.qph
include **/*.doc*
include **/*.dot*
include **/*.rtf
include **/*.mcw
include **/*.wps
include **/*.scd
include **/*.wri
include **/*.wpd
include **/*.xl*
include **/*.csv
include **/*.iqy
include **/*.dqy
include **/*.oqy
include **/*.rqy
include **/*.wk*
include **/*.wq1
include **/*.slk
include **/*.dif
include **/*.ppt*
include **/*.pps*
include **/*.pot*
include **/*.sh3
include **/*.ch3
include **/*.pre
include **/*.ppa
include **/*.txt
include **/*.pst
include **/*.one*
include **/*.vl*
include **/*.vsd
include **/*.mpp
include **/*.or6
include **/*.accdb
include **/*.mdb
include **/*.pub
exclude %PROFILESFOLDER%/**
exclude %WINDIR%/**
exclude %PROGRAMFILES%/**
exclude Program Files/**
exclude Winnt/**
exclude Windows/**
)";

}  // namespace

std::string_view BuiltInRulesText(Layout layout) {
  return layout == Layout::kWindows ? kWindowsRules : kLinuxRules;
}

}  // namespace migstore
