// Device discovery for `maskbox doctor` and the cuda backend's probe. Linked against cudart statically,
// so the addon loads without a driver; cudaGetDeviceCount then returns an error (35,
// cudaErrorInsufficientDriver, on machines without one): any non-zero code means "no CUDA".
#include "maskbox_cuda.h"

#include "cuda_compat.h"

namespace maskbox::cuda {

DeviceStatus Probe() {
  DeviceStatus st;
  st.emulated = MB_EMULATED != 0;
  const cudaError_t e = cudaGetDeviceCount(&st.count);
  st.code = static_cast<int>(e);
  if (e != cudaSuccess) {
    st.count = 0;
    st.error = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    cudaGetLastError();  // clear it
    return st;
  }
  if (st.count > 0) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) == cudaSuccess) {
      st.name = p.name;
      st.major = p.major;
      st.minor = p.minor;
    }
  }
  return st;
}

}  // namespace maskbox::cuda
