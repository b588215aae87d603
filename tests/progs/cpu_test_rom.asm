; SPDX-License-Identifier: GPL-2.0-or-later
;
; CPU test ROM: a raw 64 KiB BIOS image (vsa-vm --bios, qemu -bios) that checks
; what the 80286 instruction vectors in tests/cpu/vectors cannot: 386+ operand
; and address sizes, 0F-prefixed opcodes, protected mode entry and exit, big
; real mode, and exceptions through the IVT and a 32-bit IDT, including the
; EIP and error code the CPU pushes.
;
; Every check prints "PASS name" or "FAIL name got X expected Y" on debugcon
; (port 402h; also E9h and COM1, see rom_common.asm). The run ends with
; "CHECKS n" and then "ALL PASS" or "n FAILED", and powers off through the
; one exit routine (rom_exit). An exception nobody expected prints
; "FAIL unexpected exception ..." and skips to the next phase, so a broken
; CPU still reaches the summary.
;
; The expected values were derived from the Intel SDM and then confirmed
; under Bochs 2.7 (all 139 pass) and QEMU 7.2 TCG, which passes all but the
; pm_gp_limit checks: TCG does not enforce data-segment limits, so its read
; past a 4 KiB limit returns data instead of raising #GP(0) (run_in_qemu.sh
; accepts exactly that deviation). Only architecturally defined results are
; compared (no undefined flags, no BSF destination on a zero source), and
; nothing depends on the CPU model: CPUID is checked for TSC support and
; for its leaf count only.
;
; Memory used (all RAM below 64 KiB, zero at power-on but cleared anyway):
;   0000-03FF IVT, 0500-05FF variables, 0600-09FF scratch for real-mode tests,
;   1000-120F IDT, 2000-31FF string buffers, 6E00-7000 stack.
; Protected-mode tests also touch 100700h (A20), 200000h (big real mode),
; 300010h (segment base) and 400FFCh (segment limit).
;
; Left out: paging, task switches, call gates, V86 mode, the FPU; there is
; no BIOS, so no interrupt controller is programmed and no IRQ is taken.

%include "rom_common.asm"

STACK_TOP       equ 7000h
FAILS           equ 500h
PASSES          equ 504h
RESUME16        equ 508h        ; where a real-mode exception handler returns to
LAST_VEC        equ 50Ch
LAST_EIP        equ 510h
LAST_ERR        equ 514h
RESUME32        equ 518h        ; where a protected-mode handler returns to
EXC_COUNT       equ 51Ch
SCRATCH         equ 520h        ; a few dwords for the tests' own use
IDT_BASE        equ 1000h
IDT_VECTORS     equ 42h

SEL_DATA_HIGH   equ 28h         ; base 300000h: checks that a segment base is added
SEL_DATA_SMALL  equ 30h         ; base 400000h, limit FFFh: checks the limit
SEL_NOT_PRESENT equ 38h         ; P=0: #NP on load
SEL_BEYOND_GDT  equ 70h         ; past the GDT limit: #GP(70h) on load

; CHECK16/CHECK32 name, expected: compare EAX with the expected value. The
; name follows the CALL; the routine returns past it. EBX is clobbered.
%macro CHECK16 2
        mov ebx, %2
        call check16
        db %1, 0
%endmacro

%macro CHECK32 2
        mov ebx, %2
        call check32
        db %1, 0
%endmacro

; CHECK32X name, suffix, expected: the same with a two-part name.
%macro CHECK32X 3
        mov ebx, %3
        call check32
        db %1, %2, 0
%endmacro

; EAX = CF (0 or 1), flags otherwise untouched until the SETC.
%macro CF_TO_EAX 0
        setc al
        movzx eax, al
%endmacro

section rm16 start=0 vstart=0
bits 16
start:
        cli
        cld
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, STACK_TOP
        mov di, FAILS
        mov cx, 100h / 4
        xor eax, eax
        rep stosd

        PRINT16 `VSA CPU TEST ROM\n`

        ; The IVT entries the real-mode exception tests need.
        mov word [0 * 4], rm_isr_00
        mov word [3 * 4], rm_isr_03
        mov word [6 * 4], rm_isr_06
        mov word [40h * 4], rm_isr_40
        mov word [0 * 4 + 2], 0F000h
        mov word [3 * 4 + 2], 0F000h
        mov word [6 * 4 + 2], 0F000h
        mov word [40h * 4 + 2], 0F000h

; --- 32-bit arithmetic in real mode (66h prefix) ----------------------------
        mov eax, 12345678h
        add eax, 9ABCDEF0h
        pushfd
        CHECK16 "rm_add32", 0ACF13568h
        pop eax
        and eax, 8D5h           ; OF SF ZF AF PF CF
        CHECK16 "rm_add32_flags", 80h

        mov eax, 1
        sub eax, 2
        pushfd
        CHECK16 "rm_sub32", 0FFFFFFFFh
        pop eax
        and eax, 8D5h
        CHECK16 "rm_sub32_flags", 95h

        mov eax, 0FFFFFFFFh
        mov ecx, 0FFFFFFFFh
        mul ecx
        mov [SCRATCH], edx
        CHECK16 "rm_mul32_lo", 1
        mov eax, [SCRATCH]
        CHECK16 "rm_mul32_hi", 0FFFFFFFEh

        mov eax, -100
        cdq
        mov ecx, 7
        idiv ecx
        mov [SCRATCH], edx
        CHECK16 "rm_idiv32_quot", -14
        mov eax, [SCRATCH]
        CHECK16 "rm_idiv32_rem", -2

        mov ax, 8000h
        cwde
        CHECK16 "rm_cwde", 0FFFF8000h

; --- 32-bit addressing (67h prefix): base + index*scale + disp --------------
        mov esi, 600h
        mov ecx, 3
        mov dword [esi + ecx * 4 + 8], 0CAFEBABEh
        mov eax, [600h + 20]
        CHECK16 "rm_addr32_sib", 0CAFEBABEh

; --- MOVZX / MOVSX ----------------------------------------------------------
        ; (CHECK16 clobbers EBX, so the address is in DI.)
        mov di, 600h
        mov byte [di], 0F0h
        movzx eax, byte [di]
        CHECK16 "movzx_r32_m8", 0F0h
        movsx eax, byte [di]
        CHECK16 "movsx_r32_m8", 0FFFFFFF0h
        mov word [di], 8001h
        movsx eax, word [di]
        CHECK16 "movsx_r32_m16", 0FFFF8001h
        movzx eax, word [di]
        CHECK16 "movzx_r32_m16", 8001h
        mov eax, 12345678h
        movsx ax, byte [di]     ; byte is 01h; a 16-bit destination keeps EAX's top
        CHECK16 "movsx_r16_keeps_high", 12340001h

; --- BT / BTS / BTR / BTC ---------------------------------------------------
        ; Each step's CF goes into EDX bit by bit: 1 (bt), 0 (bts), 1 (btr), 0 (btc).
        xor edx, edx
        mov eax, 10h
        bt eax, 4
        rcl edx, 1
        bts eax, 0
        rcl edx, 1
        btr eax, 4
        rcl edx, 1
        btc eax, 31
        rcl edx, 1
        mov [SCRATCH], edx
        CHECK16 "bt_family_value", 80000001h
        mov eax, [SCRATCH]
        CHECK16 "bt_family_cf", 1010b

        ; A register bit offset addresses memory outside the dword, both ways.
        mov dword [700h], 0
        mov dword [704h], 0
        mov ecx, 37
        bts dword [700h], ecx
        mov ecx, -1
        bts dword [704h], ecx
        mov eax, [704h]
        CHECK16 "bts_mem_offset_up", 20h
        mov eax, [700h]
        CHECK16 "bts_mem_offset_down", 80000000h

; --- BSF / BSR --------------------------------------------------------------
        mov ebx, 0F0h
        bsf eax, ebx
        CHECK16 "bsf", 4
        mov ebx, 0F0h
        bsr eax, ebx
        CHECK16 "bsr", 7
        mov ebx, 80000000h
        bsr eax, ebx
        CHECK16 "bsr_bit31", 31
        xor ebx, ebx
        bsf eax, ebx            ; the destination is undefined; only ZF is checked
        setz al
        movzx eax, al
        CHECK16 "bsf_zero_sets_zf", 1

; --- SETcc ------------------------------------------------------------------
        mov eax, 5
        cmp eax, 7              ; 5 - 7: CF=1 ZF=0 SF=1 OF=0
        setl [610h]
        setg [611h]
        setb [612h]
        setbe [613h]
        sete [614h]
        setne [615h]
        seta [616h]
        setle [617h]
        mov eax, 7FFFFFFFh
        add eax, 1              ; 80000000h: OF=1 SF=1 PF=1 CF=0
        seto [618h]
        setl [619h]
        setp [61Ah]
        setc [61Bh]
        mov eax, [610h]
        CHECK16 "setcc_l_g_b_be", 01010001h
        mov eax, [614h]
        CHECK16 "setcc_e_ne_a_le", 01000100h
        mov eax, [618h]
        CHECK16 "setcc_o_l_p_c", 00010001h

; --- SHLD / SHRD ------------------------------------------------------------
        mov eax, 12345678h
        mov ebx, 9ABCDEF0h
        shld eax, ebx, 8
        mov [SCRATCH], eax
        CF_TO_EAX
        CHECK16 "shld_cf", 0
        mov eax, [SCRATCH]
        CHECK16 "shld_imm", 3456789Ah
        mov eax, [SCRATCH]
        mov ebx, 9ABCDEF0h
        mov cl, 4
        shrd eax, ebx, cl
        mov [SCRATCH], eax
        CF_TO_EAX
        CHECK16 "shrd_cf", 1
        mov eax, [SCRATCH]
        CHECK16 "shrd_cl", 03456789h
        mov eax, 0FFFF0000h
        mov ax, 1234h
        mov dx, 0ABCDh
        shld ax, dx, 4
        CHECK16 "shld_16", 0FFFF234Ah

; --- Jcc rel16 (0F 8x) -------------------------------------------------------
        mov eax, 1
        cmp eax, 1
        je near .jcc_taken
        mov eax, 0BAD1h
        times 200 nop
.jcc_taken:
        cmp eax, 2
        je near .jcc_wrong
        jmp .jcc_done
.jcc_wrong:
        mov eax, 0BAD2h
.jcc_done:
        CHECK16 "jcc_rel16", 1

; --- IMUL forms -------------------------------------------------------------
        mov eax, -3
        mov ebx, 7
        imul eax, ebx
        CHECK16 "imul_r32_rm32", -21
        mov ebx, 7
        imul ecx, ebx, 10000000h
        seto al
        movzx eax, al
        mov [SCRATCH], ecx
        CHECK16 "imul_imm_no_of", 0
        mov eax, [SCRATCH]
        CHECK16 "imul_r32_rm32_imm32", 70000000h
        mov ebx, 7
        imul ecx, ebx, 20000000h
        seto al
        movzx eax, al
        CHECK16 "imul_imm_of", 1
        mov eax, 0FFFF0000h
        mov ax, 300
        imul ax, ax
        seto bl
        mov [SCRATCH], bl
        CHECK16 "imul_r16", 0FFFF5F90h
        movzx eax, byte [SCRATCH]
        CHECK16 "imul_r16_of", 1

; --- LFS / LGS and FS/GS overrides -------------------------------------------
        mov word [620h], 1234h
        mov word [622h], 0080h
        lfs bx, [620h]
        movzx eax, bx
        CHECK16 "lfs_offset", 1234h
        mov ax, fs
        movzx eax, ax
        CHECK16 "lfs_segment", 80h
        mov dword [630h], 700h
        mov word [634h], 0090h
        lgs edi, [630h]
        mov eax, edi
        CHECK16 "lgs_offset32", 700h
        mov ax, gs
        movzx eax, ax
        CHECK16 "lgs_segment", 90h
        mov dword [fs:10h], 0A5A5F00Dh  ; FS base 800h
        mov eax, [810h]
        CHECK16 "fs_override_store", 0A5A5F00Dh
        mov dword [920h], 5EED1234h
        mov eax, [gs:20h]               ; GS base 900h
        CHECK16 "gs_override_load", 5EED1234h

; --- PUSHAD / POPAD, PUSHA / POPA --------------------------------------------
        mov eax, 0A1h
        mov ecx, 0C1h
        mov edx, 0D1h
        mov ebx, 0B1h
        mov ebp, 0BB1h
        mov esi, 51h
        mov edi, 0D11h
        mov [SCRATCH], esp
        pushad
        mov eax, [esp + 12]             ; the ESP slot holds ESP before PUSHAD
        sub eax, [SCRATCH]
        mov [SCRATCH + 4], eax
        mov eax, [esp]                  ; EDI is pushed last
        mov [SCRATCH + 8], eax
        mov eax, [esp + 28]             ; EAX first
        mov [SCRATCH + 12], eax
        mov dword [esp + 16], 44h       ; EBX's slot: POPAD must load it
        mov dword [esp + 12], 0DEADh    ; ESP's slot: POPAD must skip it
        popad
        mov [SCRATCH + 16], ebx
        mov [SCRATCH + 20], esp
        mov eax, [SCRATCH + 4]
        CHECK16 "pushad_esp_slot", 0
        mov eax, [SCRATCH + 8]
        CHECK16 "pushad_edi_slot", 0D11h
        mov eax, [SCRATCH + 12]
        CHECK16 "pushad_eax_slot", 0A1h
        mov eax, [SCRATCH + 16]
        CHECK16 "popad_ebx", 44h
        mov eax, [SCRATCH + 20]
        sub eax, [SCRATCH]
        CHECK16 "popad_esp", 0
        mov [SCRATCH], sp
        pusha
        mov [SCRATCH + 2], sp
        popa
        mov ax, [SCRATCH]
        sub ax, [SCRATCH + 2]
        movzx eax, ax
        CHECK16 "pusha_16_bytes", 16

; --- ENTER / LEAVE with a nesting level (16-bit operand size) ---------------
        ; ENTER 8,2: push BP, copy one outer frame pointer from [BP-2], push
        ; the new frame pointer, reserve 8 bytes.
        mov word [6EFEh], 0BEEFh
        mov bp, 6F00h
        mov [SCRATCH], sp               ; S
        enter 8, 2
        ; Save the frame now: the CHECK16 calls below reuse that stack.
        mov [SCRATCH + 4], bp
        mov [SCRATCH + 6], sp
        mov ax, [bp - 2]                ; copied outer frame pointer
        mov [SCRATCH + 12], ax
        mov ax, [bp - 4]                ; the new frame pointer itself
        mov [SCRATCH + 14], ax
        leave
        mov [SCRATCH + 8], bp
        mov [SCRATCH + 10], sp
        mov ax, [SCRATCH]
        sub ax, [SCRATCH + 4]
        movzx eax, ax
        CHECK16 "enter16_bp", 2         ; BP = S - 2
        mov ax, [SCRATCH]
        sub ax, [SCRATCH + 6]
        movzx eax, ax
        CHECK16 "enter16_sp", 14        ; SP = S - 2 - 2 - 2 - 8
        movzx eax, word [SCRATCH + 12]
        CHECK16 "enter16_copied_frame", 0BEEFh
        mov ax, [SCRATCH + 14]
        sub ax, [SCRATCH]
        movzx eax, ax
        CHECK16 "enter16_frametemp", 0FFFEh
        movzx eax, word [SCRATCH + 8]
        CHECK16 "leave16_bp", 6F00h
        mov ax, [SCRATCH + 10]
        sub ax, [SCRATCH]
        movzx eax, ax
        CHECK16 "leave16_sp", 0

; --- CPUID and RDTSC --------------------------------------------------------
        ; EFLAGS.ID (bit 21) must be writable on a CPU that has CPUID.
        pushfd
        pop eax
        mov ecx, eax
        xor eax, 200000h
        push eax
        popfd
        pushfd
        pop eax
        push ecx
        popfd
        xor eax, ecx
        and eax, 200000h
        CHECK16 "eflags_id_toggles", 200000h

        xor eax, eax
        cpuid
        mov [SCRATCH], ebx
        mov [SCRATCH + 4], edx
        mov [SCRATCH + 8], ecx
        mov byte [SCRATCH + 12], 0
        cmp eax, 1
        setae al
        movzx eax, al
        CHECK16 "cpuid_has_leaf1", 1
        PRINT16 "INFO cpuid vendor "
        ; The vendor string is in RAM, so print it byte by byte.
        mov si, SCRATCH
.vendor:
        lodsb
        test al, al
        jz .vendor_done
        call putc16
        jmp .vendor
.vendor_done:
        PRINT16 `\n`
        mov eax, 1
        cpuid
        mov eax, edx
        and eax, 10h
        CHECK16 "cpuid_tsc", 10h

        rdtsc
        mov esi, eax
        mov edi, edx
        mov cx, 100
.spin:  loop .spin
        rdtsc
        sub eax, esi
        sbb edx, edi                    ; EDX:EAX = later - earlier
        or eax, edx
        setnz al
        test edx, edx
        setns ah
        and al, ah
        movzx eax, al
        CHECK16 "rdtsc_monotonic", 1

; --- Real-mode exceptions through the IVT ------------------------------------
        ; Faults push the IP of the faulting instruction, traps (INT n, INT3)
        ; the IP after it.
        mov word [RESUME16], .de_done
        xor cx, cx
        mov ax, 1
        xor dx, dx
.de_insn:
        div cx
.de_done:
        mov eax, [LAST_VEC]
        CHECK16 "rm_de_vector", 0
        mov eax, [LAST_EIP]
        CHECK16 "rm_de_pushed_ip", .de_insn

        mov word [RESUME16], .ud_done
.ud_insn:
        ud2
.ud_done:
        mov eax, [LAST_VEC]
        CHECK16 "rm_ud_vector", 6
        mov eax, [LAST_EIP]
        CHECK16 "rm_ud_pushed_ip", .ud_insn

        mov word [RESUME16], .int_done
        int 40h
.int_after:
.int_done:
        mov eax, [LAST_VEC]
        CHECK16 "rm_int_vector", 40h
        mov eax, [LAST_EIP]
        CHECK16 "rm_int_pushed_ip", .int_after

        mov word [RESUME16], .bp_done
        int3
.bp_after:
.bp_done:
        mov eax, [LAST_VEC]
        CHECK16 "rm_int3_vector", 3
        mov eax, [LAST_EIP]
        CHECK16 "rm_int3_pushed_ip", .bp_after
        mov eax, [EXC_COUNT]
        CHECK16 "rm_exception_count", 4

; --- Into protected mode ------------------------------------------------------
        PRINT16 `INFO entering protected mode\n`
        in al, 92h                      ; fast A20; bit 0 would reset the CPU
        or al, 2
        and al, 0FEh
        out 92h, al
        o32 lgdt [cs:gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword SEL_CODE32:pm_entry

; --- Back from protected mode (CS = SEL_CODE16, base F0000h) ----------------
pm16_return:
        ; Give DS/ES/SS/GS real-mode limits before clearing PE; FS keeps its
        ; 4 GiB limit on purpose (big real mode).
        mov ax, SEL_DATA16
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov gs, ax
        mov eax, cr0
        and al, 0FEh
        mov cr0, eax
        jmp 0F000h:real_again

real_again:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, STACK_TOP
        lidt [cs:ivt_descriptor]
        PRINT16 `INFO back in real mode\n`

        mov eax, cr0
        and eax, 1
        CHECK16 "rm_again_pe_clear", 0

        ; FS still has the flat descriptor's 4 GiB limit: a real-mode
        ; instruction reaches the value written at 2 MiB in protected mode.
        mov esi, 200000h
        mov eax, [fs:esi]
        CHECK16 "big_real_mode_load", 13579BDFh

        ; Segment loads are real-mode again: base = selector * 16.
        mov ax, 0080h
        mov es, ax
        mov dword [es:10h], 12121212h
        xor ax, ax
        mov es, ax
        mov eax, [810h]
        CHECK16 "rm_again_segment_base", 12121212h

        mov word [RESUME16], .int_again_done
        int 40h
.int_again_after:
.int_again_done:
        mov eax, [LAST_EIP]
        CHECK16 "rm_again_ivt_int", .int_again_after

finish:
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov esp, STACK_TOP
        PRINT16 "CHECKS "
        mov ax, [PASSES]
        add ax, [FAILS]
        call dec16
        PRINT16 `\n`
        mov ax, [FAILS]
        test ax, ax
        jnz .failed
        PRINT16 `ALL PASS\n`
        xor al, al
        jmp rom_exit
.failed:
        call dec16
        PRINT16 ` FAILED\n`
        mov al, 1
        ; fall through

; The one way out (see rom_common.asm). AL = status for QEMU's debug-exit.
rom_exit:
        mov bl, al
        mov dx, SHUTDOWN_PORT
        mov si, shutdown_text
.next:  cs lodsb
        test al, al
        jz .qemu
        out dx, al
        jmp .next
.qemu:  mov dx, QEMU_EXIT_PORT
        mov al, bl
        out dx, al
.halt:  cli
        hlt
        jmp .halt

shutdown_text:
        db "Shutdown", 0

; check16: EAX = value, EBX = expected, name after the CALL.
check16:
        pushad
        mov bp, sp
        mov si, [bp + 32]
        cmp eax, ebx
        jne .fail
        PRINT16 "PASS "
        call puts16
        PRINT16 `\n`
        inc dword [ss:PASSES]
        jmp .done
.fail:  PRINT16 "FAIL "
        call puts16
        PRINT16 " got "
        call hex16
        PRINT16 " expected "
        mov eax, ebx
        call hex16
        PRINT16 `\n`
        inc dword [ss:FAILS]
.done:  mov [bp + 32], si
        popad
        ret

; Real-mode exception stubs: record vector and pushed IP, resume at RESUME16.
rm_isr_00:
        push word 0
        jmp rm_isr_common
rm_isr_03:
        push word 3
        jmp rm_isr_common
rm_isr_06:
        push word 6
        jmp rm_isr_common
rm_isr_40:
        push word 40h
rm_isr_common:
        push bp
        mov bp, sp                      ; [bp+2] vector, [bp+4] IP, [bp+6] CS
        push eax
        movzx eax, word [ss:bp + 2]
        mov [ss:LAST_VEC], eax
        movzx eax, word [ss:bp + 4]
        mov [ss:LAST_EIP], eax
        inc dword [ss:EXC_COUNT]
        mov ax, [ss:RESUME16]
        test ax, ax
        jz .unexpected
        mov [ss:bp + 4], ax
        mov word [ss:RESUME16], 0
        pop eax
        pop bp
        add sp, 2
        iret
.unexpected:
        xor ax, ax
        mov ds, ax
        PRINT16 "FAIL unexpected real-mode exception vector "
        mov eax, [LAST_VEC]
        call hex16
        PRINT16 " at "
        mov eax, [LAST_EIP]
        call hex16
        PRINT16 `\n`
        inc dword [FAILS]
        jmp finish

        ROM_IO16

        align 8
gdt:    dq 0
        dq 00CF9A000000FFFFh            ; 08 SEL_CODE32
        dq 00CF92000000FFFFh            ; 10 SEL_DATA32
        dq 00009A0F0000FFFFh            ; 18 SEL_CODE16, base F0000h
        dq 000092000000FFFFh            ; 20 SEL_DATA16
        dq 00CF92300000FFFFh            ; 28 SEL_DATA_HIGH, base 300000h
        dq 0040924000000FFFh            ; 30 SEL_DATA_SMALL, base 400000h, limit FFFh
        dq 00CF12000000FFFFh            ; 38 SEL_NOT_PRESENT
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd ROM_BASE + gdt
ivt_descriptor:
        dw 3FFh
        dd 0

; ============================================================================
section pm32 start=4000h vstart=0F4000h    ; ROM_BASE + 4000h: labels are linear
bits 32
pm_entry:
        mov ax, SEL_DATA32
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov esp, STACK_TOP
        PRINT32 `INFO in protected mode\n`

        xor eax, eax
        mov ax, cs
        CHECK32 "pm_cs_selector", SEL_CODE32
        mov eax, cr0
        and eax, 1
        CHECK32 "pm_cr0_pe", 1

        ; A20 is on: 100700h and 700h are different bytes.
        mov dword [700h], 0AAAAAAAAh
        mov dword [100700h], 55555555h
        mov eax, [700h]
        CHECK32 "a20_enabled", 0AAAAAAAAh
        mov dword [200000h], 13579BDFh  ; read back in big real mode later
        mov eax, [200000h]
        CHECK32 "pm_high_memory", 13579BDFh

; --- The IDT: 32-bit interrupt gates for vectors 0..41h ----------------------
        mov edi, IDT_BASE
        mov esi, isr_table
        mov ecx, IDT_VECTORS
.gate:  lodsd
        mov [edi], ax
        mov word [edi + 2], SEL_CODE32
        mov word [edi + 4], 8E00h       ; present, DPL 0, 32-bit interrupt gate
        shr eax, 16
        mov [edi + 6], ax
        add edi, 8
        loop .gate
        lidt [idtr]

; --- String instructions --------------------------------------------------------
        mov esi, fox_text
        mov edi, 2000h
        mov ecx, fox_len
        rep movsb
        mov eax, edi
        CHECK32 "rep_movsb_edi", 2000h + fox_len
        mov esi, fox_text
        mov edi, 2000h
        mov ecx, fox_len
        repe cmpsb
        setz al
        movzx eax, al
        shl eax, 16
        mov ax, cx
        CHECK32 "repe_cmpsb_equal", 10000h    ; ZF=1, ECX=0
        mov byte [2000h + 10], 'X'          ; differ at index 10
        mov esi, fox_text
        mov edi, 2000h
        mov ecx, fox_len
        repe cmpsb
        mov eax, ecx
        CHECK32 "repe_cmpsb_stops", fox_len - 11
        mov edi, 2000h
        mov ecx, fox_len
        mov al, 'q'
        repne scasb
        mov eax, edi
        CHECK32 "repne_scasb", 2000h + 5    ; 'q' at index 4, EDI one past
        mov edi, 3000h
        mov ecx, 16
        mov eax, 0DEADBEEFh
        rep stosd
        mov eax, edi
        CHECK32 "rep_stosd_edi", 3040h
        mov eax, [303Ch]
        CHECK32 "rep_stosd_value", 0DEADBEEFh
        mov dword [3000h], 11111111h
        mov dword [3004h], 22222222h
        std                                 ; backwards, last dword first
        mov esi, 3004h
        mov edi, 3104h
        mov ecx, 2
        rep movsd
        cld
        mov eax, esi
        CHECK32 "std_movsd_esi", 2FFCh
        mov eax, [3100h]
        CHECK32 "std_movsd_value", 11111111h
        mov esi, 3104h
        lodsd
        CHECK32 "lodsd", 22222222h

; --- Jcc rel32 (0F 8x), both directions ---------------------------------------
        xor eax, eax
        cmp eax, 0
        jz near .fwd
        mov eax, 0BAD1h
        times 300 nop
.back:  inc eax
        jmp .jdone
.fwd:   inc eax
        cmp eax, 1
        je near .back
        mov eax, 0BAD2h
.jdone: CHECK32 "jcc_rel32", 2

; --- ENTER / LEAVE, 32-bit, nesting level 3 -------------------------------------
        mov dword [6E00h - 4], 0AAAA0001h
        mov dword [6E00h - 8], 0BBBB0002h
        mov ebp, 6E00h
        mov [SCRATCH], esp              ; S
        enter 16, 3
        mov [SCRATCH + 4], ebp
        mov [SCRATCH + 8], esp
        ; Copy the frame out now: the CHECK32 calls below reuse that stack.
        mov eax, [ebp]
        mov [SCRATCH + 20], eax
        mov eax, [ebp - 4]
        mov [SCRATCH + 24], eax
        mov eax, [ebp - 8]
        mov [SCRATCH + 28], eax
        mov eax, [ebp - 12]
        mov [SCRATCH + 32], eax
        leave
        mov [SCRATCH + 12], ebp
        mov [SCRATCH + 16], esp
        mov edx, [SCRATCH]
        mov eax, edx
        sub eax, [SCRATCH + 4]
        CHECK32 "enter32_ebp", 4
        mov eax, edx
        sub eax, [SCRATCH + 8]
        CHECK32 "enter32_esp", 32       ; 4 (EBP) + 2*4 (copied) + 4 (frame) + 16
        mov eax, [SCRATCH + 20]         ; [S-4]
        CHECK32 "enter32_saved_ebp", 6E00h
        mov eax, [SCRATCH + 24]         ; [S-8]
        CHECK32 "enter32_copy1", 0AAAA0001h
        mov eax, [SCRATCH + 28]         ; [S-12]
        CHECK32 "enter32_copy2", 0BBBB0002h
        mov eax, [SCRATCH + 32]         ; [S-16]
        sub eax, edx
        CHECK32 "enter32_frametemp", -4
        mov eax, [SCRATCH + 12]
        CHECK32 "leave32_ebp", 6E00h
        mov eax, [SCRATCH + 16]
        sub eax, edx
        CHECK32 "leave32_esp", 0

; --- CALL/RET forms ---------------------------------------------------------------
        mov [SCRATCH], esp
        push 3
        push 4
        push 5
        call sum3_ret12                 ; callee pops its arguments (RET imm16)
        mov ebx, esp
        sub ebx, [SCRATCH]
        mov [SCRATCH + 4], ebx
        CHECK32 "call_ret_imm16_value", 12
        mov eax, [SCRATCH + 4]
        CHECK32 "call_ret_imm16_esp", 0
        call SEL_CODE32:far_callee      ; far CALL/RETF in the same segment
        CHECK32 "call_far_retf", 0FA0h

; --- 486 additions: BSWAP, XADD, CMPXCHG ------------------------------------------
        mov eax, 11223344h
        bswap eax
        CHECK32 "bswap", 44332211h
        mov eax, 10
        mov ecx, 32
        xadd ecx, eax                   ; ECX = 42, EAX = old ECX
        mov [SCRATCH], ecx
        CHECK32 "xadd_old", 32
        mov eax, [SCRATCH]
        CHECK32 "xadd_sum", 42
        mov dword [SCRATCH], 77h
        mov eax, 77h
        mov ecx, 99h
        cmpxchg [SCRATCH], ecx          ; equal: store ECX, ZF=1
        setz al
        movzx eax, al
        CHECK32 "cmpxchg_equal_zf", 1
        mov eax, [SCRATCH]
        CHECK32 "cmpxchg_equal_store", 99h
        mov eax, 1
        mov ecx, 55h
        cmpxchg [SCRATCH], ecx          ; not equal: EAX = memory, ZF=0
        CHECK32 "cmpxchg_differ_load", 99h

; --- Descriptor base and limit --------------------------------------------------
        mov ax, SEL_DATA_HIGH
        mov gs, ax
        mov dword [gs:10h], 600DF00Dh
        mov ax, SEL_DATA32
        mov gs, ax
        mov eax, [300010h]
        CHECK32 "segment_base_added", 600DF00Dh
        mov ax, SEL_DATA_SMALL
        mov es, ax
        mov dword [es:0FFCh], 0C0FFEE00h   ; last dword inside the limit
        mov ax, SEL_DATA32
        mov es, ax
        mov eax, [400FFCh]
        CHECK32 "segment_limit_inside", 0C0FFEE00h

; --- Exceptions through the IDT ----------------------------------------------------
        ; Each: RESUME32 = where the handler returns, then the faulting
        ; instruction; check vector, pushed EIP, error code, and that ESP is
        ; back where it was (the handler popped the error code).
%macro EXPECT_EXC 4     ; name, vector, pushed EIP label, error code
        mov eax, [LAST_VEC]
        CHECK32X %1, "_vector", %2
        mov eax, [LAST_EIP]
        CHECK32X %1, "_pushed_eip", %3
        mov eax, [LAST_ERR]
        CHECK32X %1, "_error_code", %4
        mov eax, esp
        sub eax, [SCRATCH]
        CHECK32X %1, "_esp", 0
%endmacro

        mov [SCRATCH], esp
        mov dword [RESUME32], .de_done
        xor edx, edx
        xor ecx, ecx
        mov eax, 1
.de_insn:
        div ecx
.de_done:
        EXPECT_EXC "pm_de", 0, .de_insn, 0

        mov dword [RESUME32], .de2_done
        mov eax, 80000000h
        cdq
        mov ecx, -1
.de2_insn:
        idiv ecx                        ; quotient 2^31 does not fit
.de2_done:
        EXPECT_EXC "pm_de_overflow", 0, .de2_insn, 0

        mov dword [RESUME32], .ud_done
.ud_insn:
        ud2
.ud_done:
        EXPECT_EXC "pm_ud", 6, .ud_insn, 0

        mov dword [RESUME32], .bp_done
        int3
.bp_after:
.bp_done:
        EXPECT_EXC "pm_int3", 3, .bp_after, 0

        mov dword [RESUME32], .int_done
        int 41h
.int_after:
.int_done:
        EXPECT_EXC "pm_int41", 41h, .int_after, 0

        mov dword [RESUME32], .gp_done
        mov ax, SEL_BEYOND_GDT
.gp_insn:
        mov ds, ax                      ; past the GDT limit: #GP(selector)
.gp_done:
        EXPECT_EXC "pm_gp_selector", 0Dh, .gp_insn, SEL_BEYOND_GDT

        mov dword [RESUME32], .gp2_done
        mov ax, SEL_DATA_SMALL
        mov es, ax
.gp2_insn:
        mov eax, [es:1000h]             ; past the limit: #GP(0)
.gp2_done:
        mov ax, SEL_DATA32
        mov es, ax
        EXPECT_EXC "pm_gp_limit", 0Dh, .gp2_insn, 0

        mov dword [RESUME32], .np_done
        mov ax, SEL_NOT_PRESENT
.np_insn:
        mov fs, ax                      ; P=0: #NP(selector)
.np_done:
        EXPECT_EXC "pm_np", 0Bh, .np_insn, SEL_NOT_PRESENT

        mov eax, [EXC_COUNT]
        CHECK32 "pm_exception_count", 4 + 8

; --- Back to real mode ----------------------------------------------------------------
pm_leave:
        mov ax, SEL_DATA32
        mov ds, ax
        mov fs, ax                      ; flat: kept into real mode
        PRINT32 `INFO leaving protected mode\n`
        jmp SEL_CODE16:pm16_return

sum3_ret12:
        mov eax, [esp + 4]
        add eax, [esp + 8]
        add eax, [esp + 12]
        ret 12

far_callee:
        mov eax, 0FA0h
        retf

; check32: EAX = value, EBX = expected, name after the CALL.
check32:
        pushad
        mov esi, [esp + 32]
        cmp eax, ebx
        jne .fail
        PRINT32 "PASS "
        call puts32
        PRINT32 `\n`
        inc dword [PASSES]
        jmp .done
.fail:  PRINT32 "FAIL "
        call puts32
        PRINT32 " got "
        call hex32
        PRINT32 " expected "
        mov eax, ebx
        call hex32
        PRINT32 `\n`
        inc dword [FAILS]
.done:  mov [esp + 32], esi
        popad
        ret

; Exception stubs: push a zero where the CPU pushes no error code, then the
; vector, so isr_common sees one frame layout.
%assign v 0
%rep IDT_VECTORS
isr_%[v]:
%if v == 8 || (v >= 10 && v <= 14) || v == 17
        push dword v
%else
        push dword 0
        push dword v
%endif
        jmp isr_common
%assign v v + 1
%endrep

isr_table:
%assign v 0
%rep IDT_VECTORS
        dd isr_%[v]
%assign v v + 1
%endrep

isr_common:
        push eax
        push ds
        mov ax, SEL_DATA32              ; the fault may come from a bad DS
        mov ds, ax
        ; [esp] DS, +4 EAX, +8 vector, +12 error code, +16 EIP
        mov eax, [esp + 8]
        mov [LAST_VEC], eax
        mov eax, [esp + 12]
        mov [LAST_ERR], eax
        mov eax, [esp + 16]
        mov [LAST_EIP], eax
        inc dword [EXC_COUNT]
        mov eax, [RESUME32]
        test eax, eax
        jz .unexpected
        mov [esp + 16], eax
        mov dword [RESUME32], 0
        pop ds
        pop eax
        add esp, 8
        iretd
.unexpected:
        mov ax, SEL_DATA32
        mov es, ax
        mov ss, ax
        mov esp, STACK_TOP
        PRINT32 "FAIL unexpected exception vector "
        mov eax, [LAST_VEC]
        call hex32
        PRINT32 " error "
        mov eax, [LAST_ERR]
        call hex32
        PRINT32 " at "
        mov eax, [LAST_EIP]
        call hex32
        PRINT32 `\n`
        inc dword [FAILS]
        jmp pm_leave

        ROM_IO32

idtr:   dw IDT_VECTORS * 8 - 1
        dd IDT_BASE

fox_text:
        db "The quick brown fox jumps over the lazy dog"
fox_len equ $ - fox_text

        ROM_RESET_VECTOR start
