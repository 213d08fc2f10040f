#!/usr/bin/python3
"""Goldens for DBSCAN from scikit-learn (Debian's python3-sklearn, 1.2.x): sklearn.cluster.DBSCAN(eps,
min_samples).fit(X).labels_ with the default algorithm. Run: /usr/bin/python3 scripts/goldens/dbscan.py

Boundary cases are the point: integer lattices with pairs exactly eps apart, decimal grids (0.1 spacing)
where float rounding decides, n <= 11 (sklearn's brute-force path) and n >= 12 (its KD-tree, which takes
whole nodes when the node's far corner is within eps: `pow(U, 0.5) <= eps`).

sklearn computes that root with glibc's pow(), which is not correctly rounded within ~1e-18 of a
rounding midpoint; maskbox uses a correctly rounded sqrt. `libm_sensitive()` finds the cases where the two
disagree: they are left out of the exact goldens, except one documented case that stores both answers."""
import ctypes, json, math, os
import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.cluster._dbscan_inner import dbscan_inner

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'dbscan')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(20240611)
libm = ctypes.CDLL('libm.so.6')
libm.pow.restype = ctypes.c_double
libm.pow.argtypes = [ctypes.c_double, ctypes.c_double]


def kd_leaves(X, leaf_size=30):
    """Leaf of every point and leaf boxes of sklearn's KDTree (split on max spread, (value, index) order)."""
    n, d = X.shape
    n_levels = int(np.log2(max(1, (n - 1) / leaf_size)) + 1)
    n_nodes = 2 ** n_levels - 1
    leaf_of = np.zeros(n, int)
    boxes = {}

    def build(node, idx):
        if 2 * node + 1 >= n_nodes or len(idx) < 2:
            boxes[node] = (X[idx].min(0), X[idx].max(0))
            leaf_of[idx] = node
            return
        spread = X[idx].max(0) - X[idx].min(0)
        j, best = 0, 0.0
        for k in range(d):
            if spread[k] > best:
                j, best = k, spread[k]
        order = sorted(idx.tolist(), key=lambda a: (X[a, j], a))
        mid = len(idx) // 2
        build(2 * node + 1, np.array(order[:mid]))
        build(2 * node + 2, np.array(order[mid:]))

    build(0, np.arange(n))
    return leaf_of, boxes


def kd_neighborhoods(X, eps, root):
    """sklearn's KD-tree radius neighbourhoods, with `root(U)` standing for its pow(U, 0.5)."""
    n, d = X.shape
    leaf_of, boxes = kd_leaves(X)
    out = []
    for p in range(n):
        S = np.zeros(n)
        for k in range(d):
            t = X[p, k] - X[:, k]
            S = S + t * t
        nb = set(np.nonzero(S <= eps * eps)[0].tolist())
        for q in np.nonzero(S > eps * eps)[0]:
            if min(math.sqrt(S[q]), libm.pow(S[q], 0.5)) > eps:
                continue
            lo, hi = boxes[leaf_of[q]]
            U = 0.0
            for k in range(d):
                m = max(abs(X[p, k] - lo[k]), abs(X[p, k] - hi[k]))
                U += m * m
            if root(U) <= eps:
                nb.add(int(q))
        out.append(np.array(sorted(nb), dtype=np.intp))
    return out


def labels_from(neigh, min_samples):
    n = len(neigh)
    core = np.array([len(a) >= min_samples for a in neigh], dtype=np.uint8)
    labels = np.full(n, -1, dtype=np.intp)
    arr = np.empty(n, dtype=object)
    arr[:] = neigh
    dbscan_inner(core, arr, labels)
    return labels


def libm_sensitive(X, eps, min_samples):
    """True when sklearn's labels depend on glibc's pow rounding (n >= 12 only; KD-tree path)."""
    X = np.asarray(X, dtype=np.float64)
    if len(X) <= 11:
        return False
    a = labels_from(kd_neighborhoods(X, eps, lambda u: libm.pow(u, 0.5)), min_samples)
    b = labels_from(kd_neighborhoods(X, eps, math.sqrt), min_samples)
    return not np.array_equal(a, b)


cases = []


def add(name, X, eps, min_samples, dtype='float64', note=None, allow_libm=False):
    X = np.asarray(X, dtype=dtype)
    if X.ndim == 1:
        X = X[:, None]
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(X)
    labels = model.labels_
    case = {'name': name, 'dtype': dtype, 'dims': int(X.shape[1]), 'eps': eps, 'minSamples': min_samples,
            'points': [float(v) for v in X.reshape(-1)], 'labels': labels.tolist()}
    if note:
        case['note'] = note
    X64 = X.astype(np.float64)
    if libm_sensitive(X64, eps, min_samples):
        if not allow_libm:
            return False
        case['sklearnLabels'] = case['labels']
        case['labels'] = labels_from(kd_neighborhoods(X64, eps, math.sqrt), min_samples).tolist()
        case['libmSensitive'] = True
    cases.append(case)
    return True


def r6(a):
    return np.round(a, 6)


def gaussians(n, centers, sd, noise, lo, hi):
    k = len(centers)
    pts = [rs.normal(c, sd, (n // k, len(c))) for c in centers]
    pts.append(rs.uniform(lo, hi, (noise, len(centers[0]))))
    X = np.concatenate(pts)
    return X[rs.permutation(len(X))]


# random gaussian clusters (floats: no exact ties)
add('gauss_f64', r6(gaussians(360, [(0, 0), (2, 2), (0, 3)], 0.35, 60, -2, 5)), 0.3, 5)
add('gauss_f32', r6(gaussians(240, [(1, 1), (3, 1)], 0.4, 40, -1, 5)), 0.25, 4, dtype='float32')
add('gauss_dense_min10', r6(gaussians(300, [(0, 0), (1.5, 0)], 0.5, 0, 0, 1)), 0.2, 10)

# duplicates
dup = np.repeat(rs.randint(0, 8, (20, 2)), rs.randint(1, 5, 20), axis=0).astype(float)
dup = dup[rs.permutation(len(dup))]
for m in (1, 2, 3, 7):
    add(f'duplicates_min{m}', dup, 1.0, m)

# integer lattices: many pairs exactly eps apart (1, sqrt(2) is never exact, 2, 3, 5 = 3-4-5)
lat = np.argwhere(rs.rand(30, 30) < 0.25).astype(float)
for eps, m in ((1.0, 2), (1.0, 3), (1.5, 3), (2.0, 4), (3.0, 2), (3.0, 6), (5.0, 9)):
    add(f'lattice_eps{eps:g}_min{m}', lat, eps, m)

# pixel-like blobs (the baseline detector's input), eps 3 / min 2
yy, xx = np.mgrid[0:80, 0:80]
mask = np.zeros((80, 80), bool)
for (cy, cx, r) in ((20, 20, 6), (20, 33, 7), (60, 50, 9), (45, 12, 3)):
    mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
mask &= rs.rand(80, 80) < 0.55
mask |= rs.rand(80, 80) < 0.01
add('pixels_eps3_min2', np.argwhere(mask).astype(float), 3.0, 2)

def boundary_matters(X, eps, m, rel=1e-9):
    """True when points exactly (in decimal) eps apart change the labels: eps -/+ rel disagree."""
    lo = DBSCAN(eps=eps * (1 - rel), min_samples=m).fit(X).labels_
    hi = DBSCAN(eps=eps * (1 + rel), min_samples=m).fit(X).labels_
    return not np.array_equal(lo, hi)


# decimal grids: coordinates i*step (not exact in binary), eps a multiple of step; 0.3 and 1.0 with 0.1:
# axis pairs, and (0.6, 0.8) pairs where sqrt(S) rounds to eps although S > eps^2
wanted = {'decimal_eps0.3_min3': (0.1, 0.3, 3, 0.0, 30), 'decimal_eps1.0_min6': (0.1, 1.0, 6, 0.0, 60),
          'decimal_eps0.5_min4': (0.1, 0.5, 4, 0.0, 40), 'decimal_eps0.5_min3_offset1000': (0.1, 0.5, 3, 1000.0, 40),
          'decimal_eps0.2_min3_step0.05': (0.05, 0.2, 3, 0.0, 30), 'decimal_eps1.3_min4_step0.26': (0.26, 1.3, 4, 0.0, 40),
          'decimal_eps0.05_min2_step0.01': (0.01, 0.05, 2, 0.0, 30)}
for name, (step, eps, m, off, size) in wanted.items():
    for attempt in range(200):
        X = rs.randint(0, size, (rs.randint(60, 200), 2)) * step + off
        if boundary_matters(X, eps, m) and add(name, X, eps, m):
            break
    else:
        raise SystemExit(f'no case for {name}')

# sklearn's KD-tree whole-node rule: (6*0.1, 8*0.1) apart gives S = 1.0000000000000002 > eps^2 = 1 but
# sqrt(S) = 1.0. 62 points make a 2-leaf tree: 30 far points + p on the left, 31 copies of q on the right.
# From p, q's leaf box is the single point q, so the node is taken whole: q's copies are p's neighbours.
# From q, p's leaf box is wide, so p is not q's neighbour: the neighbourhoods are not symmetric.
far = [[-100.0 - k, 0.0] for k in range(30)]
q = [[6 * 0.1, 8 * 0.1]] * 31
assert add('kdtree_whole_node_p_first', [[0.0, 0.0]] + q + far, 1.0, 5, note='p (index 0) takes the q copies; S <= eps^2 alone would make p noise')
assert add('kdtree_whole_node_p_last', q + far + [[0.0, 0.0]], 1.0, 5, note='asymmetric: q copies form cluster 0 without p, p (core) then forms cluster 1 alone')

# n <= 11: sklearn's brute-force |x|^2 - 2x.y + |y|^2 path, near the boundary
for i, (step, eps, n, off, dt) in enumerate([(0.1, 0.3, 8, 0.0, 'float64'), (0.1, 0.5, 11, 0.0, 'float64'),
                                             (0.1, 0.3, 10, 10.0, 'float64'), (0.3, 0.9, 9, 100.0, 'float64'),
                                             (0.25, 0.5, 11, 1.0, 'float32'), (1 / 3, 1.0, 7, 0.0, 'float64'),
                                             (0.7, 2.1, 11, 3.0, 'float64')]):
    for attempt in range(500):
        X = rs.randint(0, 9, (n, 2)) * step + off
        if boundary_matters(X.astype(dt), eps, 2, 1e-6 if dt == 'float32' else 1e-9) and add(f'brute_n{n}_eps{eps:g}_{i}', X, eps, 2, dtype=dt):
            break
    else:
        raise SystemExit(f'no brute case {i}')

# float32 input on sklearn's brute path: the radius is cast to float32 and squared in float32
# (fl32(fl32(eps)^2)), so a pair exactly eps = fl32(0.3) apart is *not* a neighbour there.
e32 = float(np.float32(0.3))
add('brute_f32_radius_rounding', [[0.0, 0.0], [e32, 0.0], [5.0, 5.0]], e32, 2, dtype='float32',
    note='float32, n <= 11: r^2 = fl32(fl32(eps)^2) < distance^2')
add('kdtree_f32_same_pair', [[0.0, 0.0], [e32, 0.0]] + [[50.0 + k, 50.0] for k in range(12)], e32, 2, dtype='float32',
    note='float32, n >= 12: KD-tree works in float64, the same pair is a neighbour')

# all noise, single point, two points exactly eps apart (brute and KD-tree paths)
add('all_noise', rs.uniform(0, 100, (50, 2)), 1.0, 3)
add('single_min1', [[3.5, -2.0]], 0.5, 1)
add('single_min2', [[3.5, -2.0]], 0.5, 2)
add('pair_exact_eps_brute', [[0.0, 0.0], [0.3, 0.0]], 0.3, 2)
add('pair_0.1x3_brute', [[0.0, 0.0], [0.1 * 3, 0.0]], 0.3, 2)

# other dimensionalities
add('dims1', np.round(rs.uniform(0, 20, 120), 1), 0.2, 3)
add('dims3', r6(gaussians(200, [(0, 0, 0), (1, 1, 1)], 0.3, 20, -1, 2)), 0.3, 4)
add('dims3_brute', rs.randint(0, 3, (9, 3)) * 0.1, 0.2, 2)

# the documented libm case: the structure above with q = (3*0.1, 4*0.1) and eps 0.5: U = S =
# 0.25000000000000006, glibc pow(U, 0.5) = 0.5000000000000001 > 0.5 while sqrt(U) = 0.5.
q = [[3 * 0.1, 4 * 0.1]] * 31
if not add('libm_pow_midpoint', q + far + [[0.0, 0.0]], 0.5, 5, allow_libm=True,
           note='sklearn on glibc differs: its pow(U, 0.5) is not correctly rounded here; labels = correctly rounded sqrt'):
    raise SystemExit('unexpected')
assert cases[-1].get('libmSensitive'), 'libm case not sensitive'

with open(os.path.join(OUT, 'sklearn_dbscan.json'), 'w') as f:
    json.dump({'generator': 'scripts/goldens/dbscan.py', 'sklearn': __import__('sklearn').__version__, 'cases': cases},
              f, separators=(',', ':'))
print(len(cases), 'cases', os.path.getsize(os.path.join(OUT, 'sklearn_dbscan.json')), 'bytes')
