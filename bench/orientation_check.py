#!/usr/bin/env python3
"""Replica of tr_data::layout::text_orientation on the shared page collections (docs/pages.md).

For every third page of each collection: is the upright page called turned (a false turn), and
would its quarter turn be called turned (rows 1.5x peakier than columns)? Optional, numpy +
scipy + Pillow (the kraken venv has them); never run by tests or CI.

    /work/kraken/venv/bin/python bench/orientation_check.py hooker copiste stanford peraire
"""
import sys, glob, numpy as np
from scipy import ndimage
from PIL import Image
def otsu(a):
    h=np.bincount(a.ravel(),minlength=256).astype(float); t=h.sum(); w=np.cumsum(h); m=np.cumsum(h*np.arange(256))
    mt=m[-1]; wb=w; wf=t-w; ok=(wb>0)&(wf>0); between=np.zeros(256)
    between[ok]=((m[ok]*t - mt*wb[ok])**2)/(wb[ok]*wf[ok])
    return int(np.argmax(between))
def binar(path, max_side=1400):
    g=np.asarray(Image.open(path).convert('L')); g=255-g  # bright ink
    H,W=g.shape; f=max(1,round(max(H,W)/max_side))
    Hc,Wc=-(-H//f),-(-W//f); pad=np.zeros((Hc*f,Wc*f),np.uint8); pad[:H,:W]=g
    s=pad.reshape(Hc,f,Wc,f).max(axis=(1,3))
    t=max(otsu(s), int(np.median(s))+16)
    return s>t
def peak(ys,xs,H,W,smooth,maxdeg=5.0):
    best=None
    def prof(deg):
        a=np.radians(deg); yp=np.round(ys*np.cos(a)-xs*np.sin(a)).astype(int); yp-=yp.min()
        return np.bincount(yp)
    def ss(deg): p=prof(deg).astype(float); return (p*p).sum()
    coarse=max(np.arange(-maxdeg,maxdeg+1e-6,0.5),key=ss)
    fine=max(np.arange(coarse-0.5,coarse+0.5+1e-6,0.1),key=ss)
    p=np.convolve(prof(fine).astype(float),np.ones(smooth)); nz=np.nonzero(p)[0]; span=nz[-1]-nz[0]+1
    return (p*p).sum()*span/p.sum()**2
res=[]
for coll in sys.argv[1:]:
    pages=sorted(glob.glob(f'/work/shared/data/htr/{coll}/pages/**/*.*',recursive=True))
    pages=[p for p in pages if p.lower().endswith(('.jpg','.jpeg','.png','.tif','.tiff'))]
    nv=0; nt=0; n=0
    for p in pages[::3]:
        b=binar(p)
        lab,n_=ndimage.label(b,structure=np.ones((3,3)))
        sl=ndimage.find_objects(lab)
        Hh,Ww=b.shape
        drop=np.zeros(n_+1,bool); sides=[]
        area=np.bincount(lab.ravel())
        for i,s_ in enumerate(sl):
            hh=s_[0].stop-s_[0].start; ww=s_[1].stop-s_[1].start
            if hh>0.25*Hh or ww>0.25*Ww: drop[i+1]=True
            elif area[i+1]>=6: sides.append(min(hh,ww))
        smooth=max(1,int(sorted(sides)[len(sides)//2])) if sides else 1
        b=b&~drop[lab]
        ys,xs=np.nonzero(b)
        if len(ys)<400: continue
        if len(ys)>200000:
            k=-(-len(ys)//200000); ys,xs=ys[::k],xs[::k]
        ys=ys.astype(float); xs=xs.astype(float)
        r=peak(ys,xs,*b.shape,smooth); c=peak(xs,ys,b.shape[1],b.shape[0],smooth)
        n+=1; v=c>1.3*r; nv+=v; nt+= (r>1.3*c)
        if v: print('VERTICAL?',p,round(r,2),round(c,2))
        res.append((coll,r,c))
    rc=[r/c for cc,r,c in res if cc==coll]
    for m in (1.2,1.3,1.5):
        print('  margin',m,': upright called turned',sum(1/x>m for x in rc),'turned copies found',sum(x>m for x in rc),'of',len(rc))
    print(coll, "pages", n, "rows/cols min %.2f median %.2f" % (min(rc), np.median(rc)))
