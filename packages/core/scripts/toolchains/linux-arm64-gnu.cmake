# Cross-compiling for linux-arm64 (glibc) on another Linux host, with Debian's cross compiler:
#   apt-get install g++-aarch64-linux-gnu
# Used by scripts/prebuild.sh linux-arm64-gnu and scripts/native-test.sh ... linux-arm64-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Libraries and packages come from the target's sysroot only. Headers may also come from the
# host: uv.h is taken from the running Node's include/node (architecture-independent), not the
# sysroot.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
