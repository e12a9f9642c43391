"""Encoder-only energy around the grasp pose (docs/manipulation.md): does the sim_multitask encoder tell 1 cm apart?

For grasp seeds 1000-1009 the scripted expert brings the fingers around the cube (the "pregrasp" subgoal pose).
The TCP is then moved on a 9 x 9 grid of x/y offsets (+-4 cm, 1 cm steps, metres in the base frame), and the L1
energy between the encoded camera image and the encoded pregrasp subgoal image is printed. No predictor is
involved. Usage: MUJOCO_GL=egl python3 benchmarks/encoder_pregrasp_landscape.py
"""
import numpy as np, gymnasium as gym, envs, torch
from world_model.pretrained import load_pretrained
from envs.experts import GraspExpert
torch.set_num_threads(2)
wm=load_pretrained("sim_multitask")
env=gym.make("FrankaGrasp-v0",image_size=96,camera="workspace"); u=env.unwrapped
offs=np.arange(-0.04,0.041,0.01)
errs=[]; sharp=[]
for seed in range(1000,1010):
    obs,info=env.reset(seed=seed)
    goal=wm.encode(info["subgoals"][u.subgoal_index("pregrasp")]["image"][None])[0]
    # pregrasp pose: run the expert to phase 2 from the start
    ex=GraspExpert(u,0.0,0)
    while ex.phase<2: u.simulate(ex.act(None))
    st=u.get_sim_state(); tcp=u.ee_pose()[0]
    E=np.zeros((len(offs),len(offs)))
    for i,dx in enumerate(offs):
        for j,dy in enumerate(offs):
            u.set_sim_state(st); u.move_to(tcp+np.array([dx,dy,0.0]),settle_steps=150)
            z=wm.encode(u.camera_image()[None])[0]
            E[i,j]=(z-goal).abs().mean().item()
    i,j=np.unravel_index(E.argmin(),E.shape)
    errs.append((offs[i],offs[j])); sharp.append((E[:,4].max()-E.min(), E[4,:].max()-E.min()))
    print(seed,"argmin dx=%.2f dy=%.2f"%(offs[i],offs[j]),"E along x: %s"%np.round(E[:,4],3),"E along y: %s"%np.round(E[4,:],3),flush=True)
e=np.array(errs); print("mean |argmin| dx %.3f dy %.3f"%(np.abs(e[:,0]).mean(),np.abs(e[:,1]).mean()))
